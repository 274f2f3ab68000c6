/** A one-line progress bar on stderr with rate and ETA (redrawn in place on a TTY, sparse otherwise). */
export class Progress {
  private readonly t0 = performance.now();
  private lastDraw = 0;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly unit = 'it',
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  update(done: number, extra = ''): void {
    const now = performance.now();
    const finished = done >= this.total;
    if (!finished && now - this.lastDraw < (this.out.isTTY ? 100 : 5000)) return;
    this.lastDraw = now;
    const secs = (now - this.t0) / 1000;
    const rate = done / Math.max(secs, 1e-9);
    const eta = rate > 0 ? (this.total - done) / rate : Infinity;
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const bar = '#'.repeat(Math.round(frac * 24)).padEnd(24, '.');
    const line = `${this.label} [${bar}] ${(frac * 100).toFixed(0)}% ${fmt(done)}/${fmt(this.total)} ${fmt(rate)} ${this.unit}/s ETA ${clock(eta)}${extra ? ' ' + extra : ''}`;
    if (this.out.isTTY) this.out.write(`\r${line}\x1b[K${finished ? '\n' : ''}`);
    else this.out.write(line + '\n');
  }
}

function fmt(v: number): string {
  return v >= 1e6 ? `${(v / 1e6).toFixed(1)}M` : v >= 1e4 ? `${(v / 1e3).toFixed(0)}k` : v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

export function clock(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const m = Math.floor(s / 60),
    h = Math.floor(m / 60);
  return h > 0 ? `${h}h${String(m % 60).padStart(2, '0')}m` : `${m}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
}
