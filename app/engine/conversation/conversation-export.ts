import type { ConversationEntry, ExportFormat } from '../../shared/conversation.contract';

/** What an export needs of a conversation. */
export interface ExportableConversation {
  id: string;
  startedAtMs: number;
  entries: readonly ConversationEntry[];
}

/** An exported conversation: the file's suggested name and its content. */
export interface ConversationExport {
  fileName: string;
  content: string;
}

function speaker(entry: ConversationEntry): string {
  return entry.type === 'user' ? 'You' : 'Avatar';
}

/**
 * The conversation as a file to keep: `text` (one line per message, local time, "(interrupted)"
 * where the user cut the avatar off) or `json` (every field, times in ISO 8601 UTC and epoch ms).
 */
export function exportConversation(conversation: ExportableConversation, format: ExportFormat, exportedAtMs: number = Date.now()): ConversationExport {
  const base = `conversation-${conversation.id}`;
  if (format === 'json') {
    const document = {
      conversationId: conversation.id,
      startedAt: new Date(conversation.startedAtMs).toISOString(),
      exportedAt: new Date(exportedAtMs).toISOString(),
      messages: conversation.entries.map((entry) => ({
        role: entry.type,
        turnId: entry.turnId,
        at: new Date(entry.atMs).toISOString(),
        atMs: entry.atMs,
        text: entry.text,
        ...(entry.type === 'user' ? { source: entry.source } : { heard: entry.status }),
      })),
    };
    return { fileName: `${base}.json`, content: `${JSON.stringify(document, null, 2)}\n` };
  }
  const lines = [`Conversation started ${new Date(conversation.startedAtMs).toLocaleString()}`, ''];
  for (const entry of conversation.entries) {
    const note = entry.type === 'avatar' && entry.status === 'interrupted' ? ' (interrupted)' : '';
    lines.push(`[${new Date(entry.atMs).toLocaleString()}] ${speaker(entry)}: ${entry.text}${note}`);
  }
  return { fileName: `${base}.txt`, content: `${lines.join('\n')}\n` };
}
