/** Who wrote a chat message. */
export type ChatRole = 'system' | 'user' | 'assistant';

/** One message of a conversation, as chat templates (and OpenAI-style APIs) see it. */
export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export const CHAT_ROLES: readonly ChatRole[] = ['system', 'user', 'assistant'];

export function isChatRole(value: unknown): value is ChatRole {
  return typeof value === 'string' && (CHAT_ROLES as readonly string[]).includes(value);
}
