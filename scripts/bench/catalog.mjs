// A generated music network for the search benchmark: artists, albums and tracks with realistic names
// (accents, other scripts, common and rare words), shared by peers with overlapping tastes. Seeded, so
// every run searches the same network.
import { createHash } from 'node:crypto';

function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ['Anna', 'Marta', 'José', 'Chloé', 'Zoë', 'Björn', 'Søren', 'Łukasz', 'Renée', 'Ingrid', 'Miguel', 'Noël', 'Kenji', 'Aiko', 'Olga', 'Ivan', 'Fatima', 'Omar', 'Lars', 'Nina', 'Paul', 'John', 'Mary', 'Lucía', 'François', 'Jürgen', 'Dvořák', 'Amélie', 'Tomás', 'Ximena', 'Grace', 'Otis', 'Ella', 'Miles', 'Nick', 'Patti', 'Joni', 'Leonard', 'Aretha', 'Ray'];
const LAST = ['Novák', 'García', 'Müller', 'Smith', 'Jones', 'Hernández', 'Søndergaard', 'Kowalski', 'Dubois', 'Lindqvist', 'Rossi', 'Tanaka', 'Ivanova', 'Brown', 'Davis', 'Coltrane', 'Simone', 'Cave', 'Mitchell', 'Cohen', 'Franklin', 'Charles', 'Redding', 'Fitzgerald', 'Báthory', 'Ødegaard', 'Çelik', 'Nguyễn', 'Sørensen', 'Weiß'];
const ADJECTIVES = ['Velvet', 'Silent', 'Electric', 'Golden', 'Broken', 'Midnight', 'Crimson', 'Wild', 'Lonely', 'Frozen', 'Burning', 'Hollow', 'Blue', 'Black', 'Little', 'Strange', 'Sweet', 'Dark', 'Lost', 'Secret', 'Empty', 'Neon', 'Paper', 'Glass', 'Iron', 'Sacred', 'Rusty', 'Sleepy', 'Cosmic', 'Tender'];
const NOUNS = ['Fox', 'River', 'Heart', 'Night', 'Dream', 'Love', 'Fire', 'Rain', 'Moon', 'Sun', 'Road', 'City', 'Garden', 'Ocean', 'Mirror', 'Shadow', 'Star', 'Train', 'Window', 'Ghost', 'Angel', 'Storm', 'Dance', 'Song', 'Summer', 'Winter', 'Highway', 'Island', 'Letter', 'Machine', 'Kingdom', 'Echo', 'Harbour', 'Lantern', 'Meadow', 'Cathedral', 'Satellite', 'Avalanche', 'Labyrinth', 'Carousel'];
const WORDS = ['the', 'love', 'you', 'me', 'of', 'in', 'my', 'a', 'to', 'and', 'on', 'for', 'never', 'again', 'tonight', 'forever', 'home', 'baby', 'down', 'away', 'all', 'one', 'time', 'life', 'world', 'blues', 'rock', 'girl', 'boy', 'light', 'day', 'goodbye', 'yesterday', 'tomorrow', 'café', 'señorita', 'über', 'naïve', 'déjà', 'vu', 'résumé', 'piñata', 'fiancée', 'smörgåsbord', 'ça', 'va', 'mañana', 'corazón', 'ljubav', 'amour', 'zeitgeist', 'fjord', 'Straße', 'Østerbro', 'Kraków'];
const FOREIGN = ['夜明けの歌', '東京の雨', 'さくら', 'Ночь', 'Зима и лето', 'Привет', 'Καλημέρα', 'القمر', '사랑해', 'Ｗｉｄｅ Ｓｔｒｅｅｔ', 'ＬＯＶＥ'];
const ROOTS = ['Music', 'Music', 'Music', 'My Music', 'mp3', 'Downloads/Music', 'Shared', 'Audio/Albums', ''];
const EXTENSIONS = ['mp3', 'mp3', 'mp3', 'mp3', 'mp3', 'mp3', 'flac', 'flac', 'ogg', 'm4a'];
const EXTRAS = ['cover.jpg', 'folder.jpg', 'booklet.pdf', 'album.nfo', 'album.cue'];

const pick = (rand, list) => list[Math.floor(rand() * list.length)];
// Word use follows Zipf's law (the n-th most used word about 1/(n + 12) as often as the first), tuned
// so that "love", the second word, is in about 3% of titles, as in MusicBrainz's recordings.
const ZIPF_HEAD = 12;
const pickZipf = (rand, list) => list[Math.min(list.length - 1, Math.floor(Math.exp(rand() * Math.log((list.length + ZIPF_HEAD) / ZIPF_HEAD)) * ZIPF_HEAD) - ZIPF_HEAD)];

const SYLLABLES = ['ka', 'lo', 'mi', 'ra', 'ven', 'tor', 'sel', 'du', 'bri', 'an', 'os', 'te', 'nu', 'gal', 'shi', 'mor', 'el', 'vi', 'qu', 'zan', 'pe', 'ri', 'ul', 'fa', 'ch', 'ing', 'ber', 'sto', 'len', 'ha'];
/** Title words, most used first: real common words, then a long tail of made-up ones. */
function vocabulary(rand) {
  const invented = new Set();
  while (invented.size < 5_000) {
    let word = '';
    for (let s = 1 + Math.floor(rand() * 3); s >= 0; s--) word += pick(rand, SYLLABLES);
    invented.add(word);
  }
  return [...new Set([...WORDS, ...NOUNS.map((n) => n.toLowerCase()), ...ADJECTIVES.map((a) => a.toLowerCase()), ...invented])];
}
const capital = (word) => word.charAt(0).toUpperCase() + word.slice(1);

function artistName(rand) {
  const r = rand();
  if (r < 0.35) return `${pick(rand, FIRST)} ${pick(rand, LAST)}`;
  if (r < 0.65) return `The ${pick(rand, ADJECTIVES)} ${pick(rand, NOUNS)}s`;
  if (r < 0.85) return `${pick(rand, ADJECTIVES)} ${pick(rand, NOUNS)}`;
  if (r < 0.95) return `${pick(rand, NOUNS)} & ${pick(rand, NOUNS)}`;
  return pick(rand, FOREIGN);
}

function title(rand, vocab, words) {
  if (rand() < 0.04) return pick(rand, FOREIGN);
  return Array.from({ length: words }, () => capital(pickZipf(rand, vocab))).join(' ');
}

/** The catalogue: every album of every artist, with its tracks. */
export function catalog({ artists = 6_000, seed = 12 } = {}) {
  const rand = random(seed);
  const vocab = vocabulary(rand);
  const albums = [];
  for (let a = 0; a < artists; a++) {
    const artist = `${artistName(rand)}${rand() < 0.3 ? ` ${a}` : ''}`;
    const count = 2 + Math.floor(rand() * 8);
    for (let b = 0; b < count; b++) {
      const year = 1960 + Math.floor(rand() * 66);
      const tracks = Array.from({ length: 8 + Math.floor(rand() * 8) }, () => ({ title: title(rand, vocab, 1 + Math.floor(rand() * 5)), seconds: 120 + Math.floor(rand() * 300) }));
      albums.push({ artist, album: `${title(rand, vocab, 1 + Math.floor(rand() * 3))} (${year})`, tracks });
    }
  }
  return albums;
}

const sha256Of = (text) => createHash('sha256').update(text).digest('hex');

/**
 * The files of `peers` peers with about `perPeer` files each: whole albums picked with a popularity
 * skew (a few albums are everywhere, most are rare), under one of a few common folder layouts.
 */
export function* peerShares({ albums, peers, perPeer, seed = 34 }) {
  const rand = random(seed);
  for (let peer = 0; peer < peers; peer++) {
    const root = pick(rand, ROOTS);
    const ext = pick(rand, EXTENSIONS);
    const files = new Map();
    while (files.size < perPeer) {
      // Popularity skew: x^3 favours low indexes (the "hits").
      const album = albums[Math.floor(rand() ** 3 * albums.length)];
      const folder = `${root ? `${root}/` : ''}${album.artist}/${album.album}`;
      for (let t = 0; t < album.tracks.length && files.size < perPeer; t++) {
        const track = album.tracks[t];
        const name = `${folder}/${String(t + 1).padStart(2, '0')} - ${track.title}.${ext}`;
        const bytes = ext === 'flac' ? track.seconds * 110_000 : track.seconds * 40_000;
        const key = `${album.artist}|${album.album}|${t}|${ext}`;
        files.set(name, { name, size: bytes, sha256: sha256Of(key), root: sha256Of(`root|${key}`) });
      }
      if (files.size < perPeer && rand() < 0.3) {
        const extra = pick(rand, EXTRAS);
        const key = `${album.artist}|${album.album}|${extra}`;
        files.set(`${folder}/${extra}`, { name: `${folder}/${extra}`, size: 50_000 + Math.floor(rand() * 500_000), sha256: sha256Of(key), root: sha256Of(`root|${key}`) });
      }
    }
    yield [...files.values()];
  }
}
