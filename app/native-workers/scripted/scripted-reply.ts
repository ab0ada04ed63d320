/** The scripted LLM's deterministic reply: echoes part of the user's words, then fixed sentences. */

const FOLLOW_UPS = [
  'That is an interesting thing to say.',
  'Let me think about it for a moment, and then I will answer properly.',
  'I am a scripted voice, so my answers stay short and predictable.',
  'Tell me more whenever you like.',
];

/**
 * `sentences` counts the echo sentence; the rest cycles through the follow-ups. A user text that
 * starts with "say:" is answered with exactly the rest (tests script the reply that way). "What do
 * you see?" is answered with the camera's line of the prompt (`cameraNote`), or that the camera is
 * off: tests read what the LLM was told.
 */
export function scriptedReply(userText: string, sentences = 3, cameraNote: string | null = null): string {
  const scripted = /^say:\s*([\s\S]+)$/i.exec(userText.trim());
  if (scripted) return scripted[1]!;
  if (/^what do you see\??$/i.test(userText.trim())) return cameraNote ?? 'I cannot see you: my camera is off.';
  // The engine's cue when the camera sees someone arrive (engine/conversation/vision-note.ts).
  if (/^\(someone has just come into view/i.test(userText.trim())) return 'Hello there, nice to see you!';
  if (/^\(the person in front of your camera is waving/i.test(userText.trim())) return 'Hi! I see you waving.';
  const words = userText.replace(/\s+/g, ' ').trim().split(' ').filter(Boolean);
  const echo = words.slice(0, 6).join(' ').replace(/[.!?,;:]+$/, '');
  const parts = [echo ? `You said ${echo}.` : 'You said nothing at all.'];
  for (let i = 0; i < sentences - 1; i++) parts.push(FOLLOW_UPS[i % FOLLOW_UPS.length]!);
  return parts.join(' ');
}

/** Splits a reply into token-like pieces (a word with its leading space), as an LLM streams them. */
export function scriptedTokens(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

/** The longest pause a "think N ms:" prefix may ask for. */
const MAX_THINK_MS = 20_000;

/**
 * A user text starting with "think <N> ms:" holds the first token back N ms (tests see the avatar
 * thinking before it speaks); the rest of the text is answered as usual.
 */
export function scriptedThinking(userText: string): { thinkMs: number; text: string } {
  const match = /^\s*think\s+(\d+)\s*ms:\s*([\s\S]*)$/i.exec(userText);
  if (!match) return { thinkMs: 0, text: userText };
  return { thinkMs: Math.min(MAX_THINK_MS, Number(match[1])), text: match[2]! };
}
