/**
 * What the TTS should say for a chunk of LLM output: markdown markup removed (emphasis, headings,
 * bullets, code fences and backticks, link syntax), URLs shortened to their host, whitespace
 * collapsed. The chunk text shown to the user stays as the LLM wrote it.
 */
export function speakableText(text: string): string {
  return text
    .replace(/```[a-z]*\n?/gi, ' ')
    .replace(/`/g, '')
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/https?:\/\/(?:www\.)?([^/\s]+)\S*/gi, '$1')
    .replace(/^\s{0,3}(?:#{1,6}|[-*+>]|\d+[.)])\s+/gm, '')
    .replace(/(\*\*|__|\*|~~)(?=\S)([\s\S]*?\S)\1/g, '$2')
    // Single underscores only around words, so snake_case names survive.
    .replace(/(?<!\w)_(?=\S)([^_]*?\S)_(?!\w)/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}
