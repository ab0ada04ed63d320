import { type FormEvent, type KeyboardEvent, useState } from 'react';

/** Text box: Enter sends, Shift+Enter adds a line; Stop (or Esc) interrupts the reply. */
export function MessageForm(props: { disabled: boolean; canStop: boolean; onSend: (text: string) => boolean; onStop: () => void; onDraft?: (text: string) => void }) {
  const { disabled, canStop, onSend, onStop, onDraft } = props;
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
        onChange={(event) => {
          setText(event.target.value);
          onDraft?.(event.target.value);
        }}
        onKeyDown={onKeyDown}
      />
      <button type="submit" disabled={disabled || text.trim() === ''}>
        Send
      </button>
      <button type="button" className="secondary" onClick={onStop} disabled={!canStop} title="Stop the avatar talking (Esc)">
        Stop
      </button>
    </form>
  );
}
