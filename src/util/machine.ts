/** The machine numbers came from, as a one-line description recorded beside them. */
import { cpus } from 'node:os';

export function machine(backend: string): string {
  return `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, backend ${backend}`;
}
