import { Component, type ReactNode } from 'react';

/** Keeps the conversation usable when WebGL is unavailable. */
export class SceneBoundary extends Component<{ children: ReactNode }, { failed: string | null }> {
  override state = { failed: null as string | null };

  static getDerivedStateFromError(error: unknown): { failed: string } {
    return { failed: error instanceof Error ? error.message : String(error) };
  }

  override render(): ReactNode {
    if (this.state.failed) return <p className="scene-failed">The 3D view could not start ({this.state.failed}).</p>;
    return this.props.children;
  }
}
