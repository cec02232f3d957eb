/** Go's time formatting (reference layout `Mon Jan 2 15:04:05 MST 2006`) for Sprig's date functions. */
import { toInt64 } from './values.js';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const TOKENS = [
  'January', 'Monday', '2006', '-07:00:00', '-070000', 'Z07:00:00', 'Z070000', '-07:00', 'Z07:00', '-0700', 'Z0700',
  'Jan', 'Mon', 'MST', '002', '__2', '_2', '01', '02', '03', '04', '05', '06', '15', '-07', 'Z07', 'PM', 'pm', '1', '2', '3', '4', '5',
];

const pad = (n: number, w: number, c = '0'): string => String(n).padStart(w, c);

/** A time argument: a Date, or seconds since the epoch as Sprig accepts them. */
export function toTime(v: unknown): Date {
  if (v instanceof Date) return v;
  if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'string') return new Date(Number(toInt64(v)) * 1000);
  return new Date(0);
}

interface Zone {
  /** minutes east of UTC */
  offset: number;
  abbreviation: string;
}

/** A zone as time.LoadLocation names it: "UTC", "Local" or an IANA name; unknown names fall back to UTC as Sprig does. */
function zoneAt(name: string, d: Date): Zone {
  const tz = name === 'Local' ? Intl.DateTimeFormat().resolvedOptions().timeZone : name || 'UTC';
  try {
    const part = (style: 'longOffset' | 'short'): string =>
      new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: style }).formatToParts(d).find((p) => p.type === 'timeZoneName')?.value ?? '';
    const m = /GMT([+-])(\d\d):(\d\d)/.exec(part('longOffset'));
    const offset = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
    const short = part('short');
    return { offset, abbreviation: tz === 'UTC' || short === 'GMT' && offset === 0 ? 'UTC' : short };
  } catch {
    return { offset: 0, abbreviation: 'UTC' };
  }
}

function formatOffset(tok: string, offset: number): string {
  if (offset === 0 && tok.startsWith('Z')) return 'Z';
  const sign = offset < 0 ? '-' : '+';
  const a = Math.abs(offset);
  const hh = pad(Math.floor(a / 60), 2);
  const mm = pad(a % 60, 2);
  const form = tok.replace(/^Z/, '-');
  if (form === '-07') return sign + hh;
  if (form === '-0700') return sign + hh + mm;
  if (form === '-07:00') return `${sign}${hh}:${mm}`;
  if (form === '-070000') return `${sign}${hh}${mm}00`;
  return `${sign}${hh}:${mm}:00`;
}

/** Formats `time` in zone `zone` ("UTC" unless given) with a Go layout. */
export function formatTime(layout: string, time: Date, zoneName = 'UTC'): string {
  const zone = zoneAt(zoneName, time);
  const d = new Date(time.getTime() + zone.offset * 60_000);
  let out = '';
  let i = 0;
  while (i < layout.length) {
    const frac = /^[.,](0+|9+)(?![0-9])/.exec(layout.slice(i));
    if (frac) {
      const digits = frac[1]!.length;
      const nanos = String(d.getUTCMilliseconds() * 1_000_000).padStart(9, '0').slice(0, digits);
      out += frac[1]![0] === '9' ? (nanos.replace(/0+$/, '') ? `${frac[0][0]}${nanos.replace(/0+$/, '')}` : '') : `${frac[0][0]}${nanos}`;
      i += frac[0].length;
      continue;
    }
    const tok = TOKENS.find((t) => layout.startsWith(t, i));
    if (!tok) {
      out += layout[i++];
      continue;
    }
    i += tok.length;
    const h = d.getUTCHours();
    switch (tok) {
      case 'January': out += MONTHS[d.getUTCMonth()]; break;
      case 'Jan': out += MONTHS[d.getUTCMonth()]!.slice(0, 3); break;
      case 'Monday': out += DAYS[d.getUTCDay()]; break;
      case 'Mon': out += DAYS[d.getUTCDay()]!.slice(0, 3); break;
      case '2006': out += pad(d.getUTCFullYear(), 4); break;
      case '06': out += pad(d.getUTCFullYear() % 100, 2); break;
      case '01': out += pad(d.getUTCMonth() + 1, 2); break;
      case '1': out += d.getUTCMonth() + 1; break;
      case '02': out += pad(d.getUTCDate(), 2); break;
      case '_2': out += pad(d.getUTCDate(), 2, ' '); break;
      case '2': out += d.getUTCDate(); break;
      case '002': case '__2': {
        const start = Date.UTC(d.getUTCFullYear(), 0, 1);
        const yday = Math.floor((d.getTime() - start) / 86_400_000) + 1;
        out += tok === '002' ? pad(yday, 3) : pad(yday, 3, ' ');
        break;
      }
      case '15': out += pad(h, 2); break;
      case '03': out += pad(h % 12 || 12, 2); break;
      case '3': out += h % 12 || 12; break;
      case '04': out += pad(d.getUTCMinutes(), 2); break;
      case '4': out += d.getUTCMinutes(); break;
      case '05': out += pad(d.getUTCSeconds(), 2); break;
      case '5': out += d.getUTCSeconds(); break;
      case 'PM': out += h >= 12 ? 'PM' : 'AM'; break;
      case 'pm': out += h >= 12 ? 'pm' : 'am'; break;
      case 'MST': out += zone.abbreviation; break;
      default:
        out += formatOffset(tok, zone.offset);
    }
  }
  return out;
}

/** time.Duration's String for a number of seconds. */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const neg = seconds < 0;
  let s = Math.abs(seconds);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const sec = Number.isInteger(s) ? String(s) : String(Number(s.toFixed(9)));
  return `${neg ? '-' : ''}${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${sec}s`;
}
