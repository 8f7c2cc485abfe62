// The progress line of a long run on stderr: on a terminal one line rewritten in place (a scrolling
// log of progress pushes the report's start away), elsewhere one line per update (a CI log).
import { clearLine, cursorTo } from 'node:readline';
import type { Progress } from '../engine/index.js';
import { depthLabel } from '../trace/report.js';

const n = (x: number) => Math.round(x).toLocaleString('en-US');

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
    `${n(p.distinct)} distinct`,
    `${n(p.statesPerSecond)} states/s`,
    duration(p.elapsedMs),
    est ? `level ${p.depth} ≈ ${n(est.states)} states, ≈ ${duration(est.ms)}` : null,
    `${n(rssBytes / 2 ** 20)} MiB`,
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
      const text = progressText(p, depthBound, process.memoryUsage().rss);
      if (!inPlace) {
        stream.write(`${text}\n`);
        return;
      }
      const cols = stream.columns ?? 80;
      cursorTo(stream, 0);
      stream.write(text.length >= cols ? `${text.slice(0, cols - 2)}…` : text);
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
