import { ConversationIdSchema } from '../../shared/conversation.contract';

/**
 * The conversation this page names in its address (`?conversation=<id>`), if any: the session
 * continues it, and the engine WebSocket and share signaling carry it as a query parameter so a
 * load balancer in front of several engines keeps the conversation on one engine (deploy/).
 */
export function pageConversationId(search: string = window.location.search): string | undefined {
  const named = new URLSearchParams(search).get('conversation');
  return named !== null && ConversationIdSchema.safeParse(named).success ? named : undefined;
}

/** `&conversation=<id>` for a WebSocket address when there is a conversation id, else ''. */
export function conversationQuery(conversationId: string | undefined): string {
  return conversationId ? `&conversation=${encodeURIComponent(conversationId)}` : '';
}
