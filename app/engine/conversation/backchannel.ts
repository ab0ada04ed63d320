/**
 * Words a listener says to show they follow, without asking for the turn ("uh-huh", "yeah",
 * "right"). Spoken over the avatar, they must not stop it. Whisper spells them in several ways.
 */
const BACKCHANNEL_PHRASES = new Set([
  'uh huh', 'uh-huh', 'uhuh', 'mm hm', 'mm-hm', 'mmhm', 'mm hmm', 'mm-hmm', 'mmhmm', 'mhm', 'mm', 'mmm', 'hm', 'hmm', 'aha', 'ah', 'oh', 'ok', 'okay',
  'yeah', 'yea', 'yes', 'yep', 'yup', 'right', 'sure', 'i see', 'got it', 'cool', 'nice', 'wow', 'true', 'exactly',
  'totally', 'indeed', 'alright', 'all right', 'of course', 'makes sense', 'oh okay', 'oh ok', 'oh right', 'yeah yeah',
  'yes yes', 'right right', 'okay okay', 'uh huh uh huh',
]);

/**
 * Whisper's initial prompt for speech over the avatar: the usual backchannels, spelled as the list
 * above knows them. It primes the decoder's spelling of a short hum or nod ("Mm-hmm." rather than
 * "and anthem"); real words ("Wait, stop.") still come out as said.
 */
export const BACKCHANNEL_PROMPT = 'Uh-huh. Mm-hmm. Yeah. Okay. Right. Sure. I see.';

/** Most words a backchannel has ("oh, okay, I see" is about the longest). */
const MAX_BACKCHANNEL_WORDS = 4;

/** A hum spelled any way whisper spells one: "mm", "hmm", "mhm", "nmm" (m, n and h only). */
const HUM = /^[mnh]{2,}$/;

/** What whisper writes for a sound it does not take for speech: "[BLANK_AUDIO]", "(laughs)", "<buh-uh>", "*sighs*". */
const SOUND_TAG = /\[[^\]]*\]|\([^)]*\)|<[^>]*>|\*[^*]*\*/g;

/** The transcript without whisper's sound tags. */
function spoken(transcript: string): string {
  return transcript.replace(SOUND_TAG, ' ');
}

/**
 * Whether a transcript holds words at all. On a short sound whisper often writes something that is
 * none: punctuation alone ("(", "..."), a tag for a sound ("<buh-uh>", "[BLANK_AUDIO]"), or a run of
 * single letters ("A-E-E-E-E"). Each is no words.
 */
export function hasWords(transcript: string): boolean {
  const tokens = spoken(transcript).toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];
  if (tokens.length === 0) return false;
  return !(tokens.length >= 3 && tokens.every((token) => token.length === 1));
}

/**
 * True when `transcript` is only a backchannel (case, punctuation and repeats aside); false for no
 * words. Over the avatar one letter alone counts as one too: it is how whisper writes a mumbled
 * acknowledgement ("A" for "I see"), and no request is one letter long — except "I", which starts one.
 */
export function isBackchannel(transcript: string): boolean {
  const words = spoken(transcript)
    .toLowerCase()
    .replace(/[^a-z' -]+/g, ' ')
    .split(/\s+/)
    .filter((word) => word.length > 0);
  if (words.length === 0 || words.length > MAX_BACKCHANNEL_WORDS) return false;
  if (words.length === 1 && /^[a-z]$/.test(words[0]!)) return words[0] !== 'i';
  const phrase = words.join(' ');
  if (BACKCHANNEL_PHRASES.has(phrase) || words.every((word) => HUM.test(word.replaceAll('-', '')))) return true;
  // "yeah, right", "oh, I see": every part a backchannel of its own.
  return splitIntoKnown(words);
}

function splitIntoKnown(words: readonly string[]): boolean {
  if (words.length === 0) return true;
  for (let take = Math.min(3, words.length); take >= 1; take--) {
    if (BACKCHANNEL_PHRASES.has(words.slice(0, take).join(' ')) && splitIntoKnown(words.slice(take))) return true;
  }
  return false;
}
