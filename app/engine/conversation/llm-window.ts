import type { ConversationEntry } from '../../shared/conversation.contract';
import type { ChatMessage } from '../../shared/worker.contract';

/** Messages dropped at once when the history outgrows the LLM's window. */
const DROP_STEP = 10;

/**
 * What the LLM sees of a history (system prompt first, the new user message last): the system
 * prompt plus at most `maxMessages` recent messages, starting at a user message. Old messages are
 * dropped in steps of ten, so the prompt prefix (and the worker's KV cache) stays valid for
 * several turns instead of shifting every turn.
 */
export function llmWindow(history: readonly ChatMessage[], maxMessages: number): ChatMessage[] {
  const [system, ...rest] = history;
  if (!system) return [];
  const excess = rest.length - maxMessages;
  const drop = excess > 0 ? Math.min(rest.length - 1, Math.ceil(excess / DROP_STEP) * DROP_STEP) : 0;
  let recent = rest.slice(drop);
  while (recent.length > 1 && recent[0]!.role !== 'user') recent = recent.slice(1);
  return [system, ...recent];
}

/**
 * A session's history from a kept conversation: the system prompt, then the most recent
 * `maxMessages` messages (what the LLM's window can take; the journal keeps the rest).
 */
export function restoredHistory(systemPrompt: string, entries: readonly ConversationEntry[], maxMessages: number): ChatMessage[] {
  const recent = maxMessages > 0 ? entries.slice(-maxMessages) : [];
  return [{ role: 'system', content: systemPrompt }, ...recent.map((entry): ChatMessage => ({ role: entry.type === 'user' ? 'user' : 'assistant', content: entry.text }))];
}
