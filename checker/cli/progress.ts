// The progress line of a long run on stderr: on a terminal one line rewritten in place (a scrolling
// log of progress pushes the report's start away), elsewhere one line per update (a CI log).
import { clearLine, cursorTo } from 'node:readline';
import type { Progress } from '../engine/index.js';
import { depthLabel } from '../trace/report.js';

const n = (x: number) => Math.round(x).toLocaleString('en-US');
/** A count in few columns: 9,876, then 12.3k, 4.56M (the progress line must fit 80 columns). */
export function compact(x: number): string {
  if (x < 10_000) return n(x);
  if (x < 1_000_000) return `${(x / 1000).toFixed(1)}k`;
  return `${(x / 1_000_000).toFixed(1)}M`;
}

function duration(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * An estimate of the level being built from the finished ones: its size grows by the ratio of the
 * last two levels (levels of this model grow roughly geometrically until the reachable graph closes),
 * its time at the run's rate so far. Null until two levels are known.
 */
export function nextLevelEstimate(p: Progress): { states: number; ms: number } | null {
  const ls = p.levels;
  if (ls.length < 2) return null;
  const last = ls[ls.length - 1]!;
  const before = ls[ls.length - 2]!;
  if (before === 0 || p.statesPerSecond <= 0) return null;
  const states = last * (last / before);
  return { states, ms: (states / p.statesPerSecond) * 1000 };
}

/** One progress line (without the newline). */
export function progressText(p: Progress, depthBound: number, rssBytes: number): string {
  const est = nextLevelEstimate(p);
  const parts = [
    `depth ${p.depth}/${depthLabel(depthBound)}`,
    `${compact(p.distinct)} states`,
    `${compact(p.statesPerSecond)}/s`,
    duration(p.elapsedMs),
    rssBytes >= 10 * 2 ** 30 ? `${(rssBytes / 2 ** 30).toFixed(1)} GiB` : `${n(rssBytes / 2 ** 20)} MiB`,
    // last: on a narrow terminal the line is cut from the end
    est ? `level ≈ ${compact(est.states)} in ${duration(est.ms)}` : null,
  ];
  return `progress: ${parts.filter((x) => x !== null).join(' · ')}`;
}

export interface ProgressSink {
  update(p: Progress): void;
  /** Clears an in-place line before the report is printed. */
  done(): void;
}

export function progressSink(stream: NodeJS.WriteStream, depthBound: number): ProgressSink {
  const inPlace = stream.isTTY === true;
  let shown = false;
  return {
    update(p) {
      const text = progressText(p, depthBound, process.memoryUsage.rss());
      if (!inPlace) {
        stream.write(`${text}\n`);
        return;
      }
      // the line in place needs no label: it is plainly progress, and columns are scarce
      const line = text.replace(/^progress: /, '');
      const cols = stream.columns ?? 80;
      cursorTo(stream, 0);
      stream.write([...line].length >= cols ? `${[...line].slice(0, cols - 2).join('')}…` : line);
      clearLine(stream, 1);
      shown = true;
    },
    done() {
      if (!inPlace || !shown) return;
      cursorTo(stream, 0);
      clearLine(stream, 0);
      shown = false;
    },
  };
}
