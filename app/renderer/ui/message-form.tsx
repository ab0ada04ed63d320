import { type FormEvent, type KeyboardEvent, useState } from 'react';

/** Text box: Enter sends, Shift+Enter adds a line. */
export function MessageForm({ disabled, onSend, onStop }: { disabled: boolean; onSend: (text: string) => boolean; onStop: () => void }) {
  const [text, setText] = useState('');

  const submit = (): void => {
    const trimmed = text.trim();
    if (trimmed === '' || disabled) return;
    if (onSend(trimmed)) setText('');
  };
  const onSubmit = (event: FormEvent): void => {
    event.preventDefault();
    submit();
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>): void => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };

  return (
    <form className="message-form" onSubmit={onSubmit}>
      <label htmlFor="message-input" className="visually-hidden">
        Message
      </label>
      <textarea
        id="message-input"
        rows={1}
        value={text}
        maxLength={4000}
        placeholder={disabled ? 'Connecting…' : 'Type a message…'}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={onKeyDown}
      />
      <button type="submit" disabled={disabled || text.trim() === ''}>
        Send
      </button>
      <button type="button" className="secondary" onClick={onStop} title="Stop the avatar talking">
        Stop
      </button>
    </form>
  );
}
