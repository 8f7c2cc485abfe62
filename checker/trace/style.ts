// How text reaches a person: colour through Node's own util.styleText (the decision whether to colour
// is the caller's: a terminal, NO_COLOR, FORCE_COLOR, --color), and lines wrapped to a width.
import { stripVTControlCharacters, styleText } from 'node:util';

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  /** Columns to wrap report lines to; null: never wrap (a pipe or a file, unless COLUMNS says). */
  width: number | null;
}

type Format = Parameters<typeof styleText>[0];

// validateStream: false because whether to colour was decided for the stream the text goes to, which
// styleText cannot know (it would look at stdout, and this text may go to a file).
const paint = (f: Format) => (s: string) => styleText(f, s, { validateStream: false });

export function makeStyle(color: boolean, width: number | null = null): Style {
  if (!color) {
    const id = (s: string) => s;
    return { bold: id, dim: id, red: id, green: id, yellow: id, width };
  }
  return { bold: paint('bold'), dim: paint('dim'), red: paint('red'), green: paint('green'), yellow: paint('yellow'), width };
}

export const PLAIN: Style = makeStyle(false);

/** Columns a string takes on a terminal (colour codes take none). */
export function visibleLength(s: string): number {
  return [...stripVTControlCharacters(s)].length;
}

/**
 * Wraps one line to `width` columns at spaces; continuation lines are indented four columns past the
 * line's own indentation, so that a wrapped message still reads as one item. A word longer than the
 * room stays whole (a path or a token is worth more unbroken than a neat margin).
 */
export function wrapLine(line: string, width: number | null, hang = 4): string[] {
  if (width === null || visibleLength(line) <= width) return [line];
  const indent = /^ */.exec(stripVTControlCharacters(line))![0].length;
  const cont = ' '.repeat(Math.min(indent + hang, Math.floor(width / 2)));
  // a short number stays with the word before it ("exit 12", "depth 6"): a line never starts with one
  const words = line
    .slice(indent)
    .split(' ')
    .reduce<string[]>((acc, w) => {
      if (acc.length > 0 && /^\d{1,3}[;,):]?$/.test(stripVTControlCharacters(w))) acc[acc.length - 1] += ` ${w}`;
      else acc.push(w);
      return acc;
    }, []);
  const out: string[] = [];
  let cur = ' '.repeat(indent);
  let curLen = indent;
  let fresh = true;
  for (const w of words) {
    const wl = visibleLength(w);
    if (!fresh && curLen + 1 + wl > width) {
      out.push(cur);
      cur = cont + w;
      curLen = cont.length + wl;
    } else {
      cur += (fresh ? '' : ' ') + w;
      curLen += (fresh ? 0 : 1) + wl;
    }
    fresh = false;
  }
  out.push(cur);
  return out;
}

/** Every line of a text wrapped (see wrapLine). */
export function wrapText(lines: readonly string[], width: number | null): string[] {
  return width === null ? [...lines] : lines.flatMap((l) => wrapLine(l, width));
}
