import { z } from 'zod';
import { TurnSourceSchema } from './trace.contract';

/**
 * A conversation as it is kept: one JSON line per entry in `<data dir>/conversations/<id>.jsonl`,
 * appended and flushed to disk as each happens. Only words are kept — the user's turn as
 * transcribed or typed and the avatar's reply as it was heard — with the turn id and wall-clock
 * time (epoch ms); never audio.
 */

const turnId = z.string().min(1).max(128);
const atMs = z.number().int().nonnegative();

/** Conversation ids sort by start time: `2026-01-02T03-04-05-678Z-1a2b3c4d`. */
export const ConversationIdSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z-[0-9a-f]{8}$/);

/** The first line of every journal: which conversation it is and when it started. */
export const JournalHeaderSchema = z.object({
  type: z.literal('conversation'),
  v: z.literal(1),
  conversationId: ConversationIdSchema,
  atMs,
});
export type JournalHeader = z.infer<typeof JournalHeaderSchema>;

/** The user's words of one turn, as transcribed (voice) or typed (text). */
export const UserEntrySchema = z.object({ type: z.literal('user'), turnId, text: z.string(), atMs, source: TurnSourceSchema });

/** How much of a reply the user heard: all of it, or up to where it was cut off (barge-in, stop, failure). */
export const HeardStatusSchema = z.enum(['complete', 'interrupted']);

/**
 * The avatar's reply as heard. A reply cut off after it was journaled is journaled again with the
 * same turn id: the later line wins (the file stays append-only).
 */
export const AvatarEntrySchema = z.object({ type: z.literal('avatar'), turnId, text: z.string(), atMs, status: HeardStatusSchema });

export const ConversationEntrySchema = z.discriminatedUnion('type', [UserEntrySchema, AvatarEntrySchema]);
export type ConversationEntry = z.infer<typeof ConversationEntrySchema>;

/** Any line of a journal file. */
export const JournalLineSchema = z.discriminatedUnion('type', [JournalHeaderSchema, UserEntrySchema, AvatarEntrySchema]);
export type JournalLine = z.infer<typeof JournalLineSchema>;

/** Export formats: readable text, or JSON with every field. */
export const ExportFormatSchema = z.enum(['text', 'json']);
export type ExportFormat = z.infer<typeof ExportFormatSchema>;

/**
 * Which conversation a new session takes: the last one (restored from the journal), none (in memory
 * only, never kept), or the one with this id (continued from its journal, or started with that id:
 * a client behind a load balancer names its conversation so that any engine can continue it).
 */
export const SessionConversationSchema = z.union([z.enum(['last', 'none']), ConversationIdSchema]);
