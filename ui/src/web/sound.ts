// Sound the tab plays itself, on the chosen speaker: voicemail messages and the
// settings' test tone. One at a time.
import { canChooseSpeaker, setSink } from "./media";

let playing: HTMLAudioElement | null = null;

export function stopPlaying(): void {
  if (!playing) return;
  playing.pause();
  URL.revokeObjectURL(playing.src);
  playing.remove();
  playing = null;
}

/** Plays `sound`; resolves with its length in ms once the browser knows it. */
export async function play(sound: Blob, speakerId: string | null, knownLengthMs: number | null): Promise<number> {
  stopPlaying();
  const player = document.createElement("audio");
  player.dataset.testid = "playback-audio";
  player.hidden = true;
  player.src = URL.createObjectURL(sound);
  document.body.append(player);
  playing = player;
  if (speakerId && canChooseSpeaker()) await setSink(player, speakerId).catch(() => undefined);
  await new Promise<void>((resolve, reject) => {
    player.onloadedmetadata = () => resolve();
    player.onerror = () => reject(new Error("the browser cannot play this sound"));
  });
  await player.play();
  player.onended = () => {
    if (playing === player) stopPlaying();
  };
  const length = Number.isFinite(player.duration) ? Math.round(player.duration * 1000) : null;
  return length ?? knownLengthMs ?? 0;
}

/** One second of 440 Hz, as a WAV file. */
export function testTone(): Blob {
  const rate = 48_000;
  const samples = new Int16Array(rate);
  for (let i = 0; i < samples.length; i++) {
    samples[i] = Math.round(Math.sin((2 * Math.PI * 440 * i) / rate) * 0.3 * 32767);
  }
  const header = new DataView(new ArrayBuffer(44));
  const text = (offset: number, value: string) =>
    [...value].forEach((c, i) => header.setUint8(offset + i, c.charCodeAt(0)));
  text(0, "RIFF");
  header.setUint32(4, 36 + samples.byteLength, true);
  text(8, "WAVEfmt ");
  header.setUint32(16, 16, true);
  header.setUint16(20, 1, true);
  header.setUint16(22, 1, true);
  header.setUint32(24, rate, true);
  header.setUint32(28, rate * 2, true);
  header.setUint16(32, 2, true);
  header.setUint16(34, 16, true);
  text(36, "data");
  header.setUint32(40, samples.byteLength, true);
  return new Blob([header, samples], { type: "audio/wav" });
}
