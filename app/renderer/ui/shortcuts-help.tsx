import { type KeyboardEvent, useEffect, useRef } from 'react';

/** Every keyboard shortcut of the app (the README's table lists the same). */
export const SHORTCUTS: readonly { keys: string; action: string }[] = [
  { keys: 'M', action: 'Microphone on / off' },
  { keys: 'C', action: 'Camera on / off (the avatar sees you; frames stay on this device)' },
  { keys: 'Space (hold)', action: 'Talk, in push-to-talk mode' },
  { keys: 'Esc', action: 'Stop the avatar talking; close a dialog' },
  { keys: 'Enter', action: 'Send the typed message' },
  { keys: 'Shift + Enter', action: 'New line in the message' },
  { keys: ', or Ctrl + ,', action: 'Settings' },
  { keys: '?', action: 'This list of shortcuts' },
  { keys: 'Ctrl + Alt + Shift + O', action: 'Desktop overlay (npm start -- --overlay): click-through on / off, from any app' },
];

/** The keyboard shortcuts dialog (`?`); Escape or the close button closes it. */
export function ShortcutsHelp({ onClose }: { onClose: () => void }) {
  const closeRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    closeRef.current?.focus();
    return () => previous?.focus();
  }, []);
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    if (event.key === 'Escape' || event.key === '?') {
      event.stopPropagation();
      onClose();
    }
  };
  return (
    <div className="dialog-backdrop" onMouseDown={(event) => event.target === event.currentTarget && onClose()}>
      <div className="dialog shortcuts-help" role="dialog" aria-modal="true" aria-labelledby="shortcuts-title" onKeyDown={onKeyDown}>
        <header className="dialog-header">
          <h2 id="shortcuts-title">Keyboard shortcuts</h2>
          <button ref={closeRef} type="button" className="dismiss" aria-label="Close shortcuts" onClick={onClose}>
            ×
          </button>
        </header>
        <table>
          <tbody>
            {SHORTCUTS.map((shortcut) => (
              <tr key={shortcut.keys}>
                <th scope="row">
                  <kbd>{shortcut.keys}</kbd>
                </th>
                <td>{shortcut.action}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="settings-hint">Shortcuts other than Ctrl + , do nothing while typing in a field.</p>
      </div>
    </div>
  );
}
