import type { Rng } from '../rng';

/**
 * Common English words of one to three letters. Each is a single token (with its leading space)
 * in the BPE vocabularies of Llama-3, Qwen and DeepSeek, and in the emulator's counting rule
 * (a word piece of up to 4 characters is one token), so "N words" is "N tokens" for a server we
 * cannot tokenise for. Server-reported prompt tokens are checked against this after every run.
 */
export const WORDS: readonly string[] = (
  'the of and to in is was for on as at by be he it his had are but not you all any can her one our out day get has him how man new now old see two way who boy did its let put say she too use may yet few own far why ask big end set off run try lot law war age air art bad bed car cut dog eat eye fit fun god hot job key kid low map mix net oil pay red sea sit six sky son sun tax ten top toy act add ago aim arm bag bar box bus buy cup dry due egg fan fee fix fly gas gun hat hit ice lay leg lie lip mad mom nor odd pen per pet pop pot raw row sad ski tea tie tip van wet win yes zoo ear ate bit dad hey joy kit lab mud nut pan pin rat rib rod rug sum tag tap tin tub web wig'
).split(' ');

/** `count` words joined by spaces; the first has no leading space */
export function randomWords(count: number, rng: Rng): string {
  const out = new Array<string>(Math.max(0, count));
  for (let i = 0; i < out.length; i++) out[i] = WORDS[Math.floor(rng.next() * WORDS.length)];
  return out.join(' ');
}

/** token ids rendered as words, for APIs that only take text (chat) */
export function idsToWords(ids: readonly number[]): string {
  return ids.map((id) => WORDS[((id % WORDS.length) + WORDS.length) % WORDS.length]).join(' ');
}
