// Code coverage of an exploration: which functions of the model ran and which of their blocks never
// did, from V8's precise block coverage (the inspector protocol, in the thread that explores), mapped
// back to the original source lines through source maps (dist/ has them; a user's TypeScript compiled
// at run time has them inline). TLC's -coverage, at the level of the model's code.
import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { findSourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface UncoveredBlock {
  /** 1-based lines in the original source. */
  startLine: number;
  endLine: number;
  /** The first line's text, trimmed (what a person recognises). */
  text: string;
}

export interface FunctionCoverage {
  /** The original source file. */
  file: string;
  name: string;
  /** Calls V8 counted (0: never ran). */
  calls: number;
  /** Blocks of the function that never ran (empty when every block did). */
  uncovered: UncoveredBlock[];
}

/** Starts block coverage in this thread: code compiled from now on is counted block by block. */
export async function startCoverage(): Promise<Session> {
  // source maps must be on before the code is loaded for findSourceMap to know them
  process.setSourceMapsEnabled(true);
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  await session.post('Debugger.enable');
  return session;
}

/** The coverage so far of the scripts whose URL contains one of `parts`, per function. */
export async function takeCoverage(session: Session, parts: readonly string[]): Promise<FunctionCoverage[]> {
  const { result } = await session.post('Profiler.takePreciseCoverage');
  const out: FunctionCoverage[] = [];
  for (const script of result) {
    if (!parts.some((p) => script.url.includes(p))) continue;
    const { scriptSource } = await session.post('Debugger.getScriptSource', { scriptId: script.scriptId });
    const lineStarts = [0];
    for (let i = 0; i < scriptSource.length; i++) if (scriptSource.charCodeAt(i) === 10) lineStarts.push(i + 1);
    const map = findSourceMap(script.url.startsWith('file:') ? fileURLToPath(script.url) : script.url) ?? findSourceMap(script.url);
    const position = (offset: number) => {
      let lo = 0;
      let hi = lineStarts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (lineStarts[mid]! <= offset) lo = mid;
        else hi = mid - 1;
      }
      return { line: lo, column: offset - lineStarts[lo]! };
    };
    // generated (0-based line, column) → original file and 1-based line
    const original = (offset: number) => {
      const p = position(offset);
      const e = map?.findEntry(p.line, p.column) as { originalSource?: string; originalLine?: number } | undefined;
      if (map && e && e.originalSource !== undefined && e.originalLine !== undefined) {
        const column = (e as { originalColumn?: number }).originalColumn ?? 0;
        return { file: e.originalSource.startsWith('file:') ? fileURLToPath(e.originalSource) : e.originalSource, line: e.originalLine + 1, column };
      }
      return { file: script.url.startsWith('file:') ? fileURLToPath(script.url) : script.url, line: p.line + 1, column: p.column };
    };
    const sourceLines = new Map<string, string[]>();
    const lineText = (file: string, line: number, column: number) => {
      let lines = sourceLines.get(file);
      if (lines === undefined) {
        const content = map?.payload.sourcesContent?.[map.payload.sources.findIndex((s) => s === file || s.endsWith(file) || file.endsWith(s.replace(/^(\.\.\/)+/, '')))];
        lines = (content ?? readText(file)).split('\n');
        sourceLines.set(file, lines);
      }
      // the block itself, from where it starts on its line (a branch may be half a line); a block
      // that opens with its brace is shown by its first statement
      let text = (lines[line - 1] ?? '').slice(column).trim();
      if (text === '{' && lines[line] !== undefined) text = `{ ${lines[line]!.trim()}`;
      return text.length > 72 ? `${text.slice(0, 69)}...` : text;
    };
    for (const fn of script.functions) {
      if (fn.functionName === '' || fn.ranges.length === 0) continue;
      const whole = fn.ranges[0]!;
      const head = original(whole.startOffset);
      const uncovered: UncoveredBlock[] = [];
      for (const r of fn.ranges.slice(1)) {
        if (r.count !== 0) continue;
        const a = original(r.startOffset);
        const b = original(Math.max(r.startOffset, r.endOffset - 1));
        if (a.file !== head.file) continue;
        uncovered.push({ startLine: a.line, endLine: Math.max(a.line, b.line), text: lineText(a.file, a.line, a.column) });
      }
      out.push({ file: head.file, name: fn.functionName, calls: whole.count, uncovered: mergeBlocks(uncovered) });
    }
  }
  return out;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Nested or repeated blocks on the same lines become one. */
function mergeBlocks(bs: UncoveredBlock[]): UncoveredBlock[] {
  const sorted = [...bs].sort((x, y) => x.startLine - y.startLine || y.endLine - x.endLine);
  const out: UncoveredBlock[] = [];
  for (const b of sorted) {
    const last = out[out.length - 1];
    if (last && b.startLine <= last.endLine) last.endLine = Math.max(last.endLine, b.endLine);
    else out.push({ ...b });
  }
  return out;
}
