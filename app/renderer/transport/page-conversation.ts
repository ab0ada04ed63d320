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

/**
 * The session moved to another conversation ("New conversation"): an address that names its
 * conversation names the new one, so a reload and the next reconnect continue it.
 */
export function followConversation(conversationId: string): void {
  const url = new URL(window.location.href);
  if (pageConversationId(url.search) === undefined || url.searchParams.get('conversation') === conversationId) return;
  url.searchParams.set('conversation', conversationId);
  history.replaceState(history.state, '', `${url.pathname}${url.search}${url.hash}`);
}
