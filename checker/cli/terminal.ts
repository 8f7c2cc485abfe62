// What a terminal wants: colour or not, and how wide a line may be.
import { makeStyle, visibleLength, wrapLine, type Style } from '../trace/style.js';

/**
 * Whether to colour: --no-color and --color decide; else FORCE_COLOR (set and not 0/false: colour
 * even into a pipe), else NO_COLOR (set and non-empty: never), else only on a terminal.
 */
export function useColor(flag: boolean | undefined, stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (flag === false) return false;
  if (flag === true) return true;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return !['0', 'false'].includes(force.toLowerCase());
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stream.isTTY === true;
}

/** The width to wrap report lines to: the terminal's, else COLUMNS when set; null (no wrapping) for a pipe or a file. */
export function terminalWidth(stream: { isTTY?: boolean; columns?: number }, env: NodeJS.ProcessEnv = process.env): number | null {
  if (stream.isTTY === true && typeof stream.columns === 'number' && stream.columns > 0) return Math.max(stream.columns, 40);
  const c = env.COLUMNS;
  if (c !== undefined && /^\d+$/.test(c) && Number(c) > 0) return Math.max(Number(c), 40);
  return null;
}

/** The style of a report printed on stdout. */
export function stdoutStyle(flag: boolean | undefined): Style {
  return makeStyle(useColor(flag, process.stdout), terminalWidth(process.stdout));
}

/**
 * Help text fitted to `width` columns: a paragraph of prose (no line of it indented) is refilled; in
 * an indented block (options, examples, a table) a line too long is split before its description
 * ("  command    what it does" becomes two lines), then wrapped with a hanging indent.
 */
export function reflowHelp(text: string, width: number): string {
  // the blank lines around it are kept as they are (a text added after the options starts with one)
  const lead = /^\n*/.exec(text)![0];
  const body = text.slice(lead.length).replace(/\n+$/, '');
  const tail = text.slice(lead.length + body.length);
  return (
    lead +
    body
      .split('\n\n')
      .map((para) => {
        const ls = para.split('\n');
        if (ls.every((l) => !/^\s/.test(l))) return wrapLine(ls.join(' ').replace(/ {2,}/g, ' '), width, 0).join('\n');
        return ls
          .flatMap((l) => {
            if (visibleLength(l) <= width) return [l];
            const m = /^(\s+)(\S.*?)\s{3,}(\S.*)$/.exec(l);
            const parts = m ? [`${m[1]}${m[2]}`, `${m[1]}    ${m[3]}`] : [l];
            return parts.flatMap((x) => wrapLine(x, width));
          })
          .join('\n');
      })
      .join('\n\n') + tail
  );
}
