/** Splits `text` around occurrences of any of `specials`, dropping them (they never take part in training merges). */
export function splitOnSpecialTokens(text: string, specials: readonly string[]): string[] {
  if (specials.length === 0) return [text];
  let parts = [text];
  for (const special of specials) {
    if (special === '' || !text.includes(special)) continue;
    parts = parts.flatMap((part) => part.split(special));
  }
  return parts.filter((part) => part.length > 0);
}
