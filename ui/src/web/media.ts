// The tab's call audio: one RTCPeerConnection to the service's media anchor, kept
// for the signaling connection's life (a new one after each welcome), with the
// microphone opened only while the tab is a party to a call and released after.
import type { MediaStats } from "../api";

type Offer = (sdp: string) => Promise<string>;

const SILENT_DBFS = -100;

function dbfs(level: number | undefined): number {
  return level !== undefined && level > 0 ? Math.max(SILENT_DBFS, 20 * Math.log10(level)) : SILENT_DBFS;
}

export function canChooseSpeaker(): boolean {
  return "setSinkId" in HTMLMediaElement.prototype;
}

export class Media {
  private peer: RTCPeerConnection | null = null;
  private sender: RTCRtpSender | null = null;
  private microphone: MediaStream | null = null;
  /** The microphone is being asked for; what is asked when it arrives. */
  private opening: Promise<void> | null = null;
  private wanted = false;
  private muted = false;
  private problems: string[] = [];
  /** Plays what the service sends: the other party, hold music, greetings. */
  readonly speaker: HTMLAudioElement;

  constructor(
    private microphoneId: string | null,
    speakerId: string | null,
    private readonly changed: () => void,
  ) {
    this.speaker = document.createElement("audio");
    this.speaker.dataset.testid = "call-audio";
    this.speaker.autoplay = true;
    this.speaker.hidden = true;
    document.body.append(this.speaker);
    void this.useSpeaker(speakerId);
  }

  /** A new peer connection, offered through `offer` (after each welcome). */
  async connect(offer: Offer): Promise<void> {
    this.closePeer();
    const peer = new RTCPeerConnection({ iceServers: [], bundlePolicy: "max-bundle", rtcpMuxPolicy: "require" });
    this.peer = peer;
    const transceiver = peer.addTransceiver("audio", { direction: "sendrecv" });
    this.sender = transceiver.sender;
    peer.ontrack = (event) => {
      this.speaker.srcObject = event.streams[0] ?? new MediaStream([event.track]);
      void this.speaker.play().catch(() => this.problem("The browser did not let the page play sound; click anywhere in it."));
    };
    peer.onconnectionstatechange = () => {
      this.problems = this.problems.filter((p) => !p.startsWith("Call audio"));
      if (peer.connectionState === "failed") {
        this.problem("Call audio could not reach the service (the browser's connection to it failed); calls connect without sound.");
      }
      this.changed();
    };
    const local = await peer.createOffer();
    await peer.setLocalDescription(local);
    const sdp = peer.localDescription?.sdp ?? local.sdp ?? "";
    const answer = await offer(sdp);
    if (this.peer !== peer) return;
    await peer.setRemoteDescription({ type: "answer", sdp: answer });
    const track = this.microphone?.getAudioTracks()[0] ?? null;
    if (track) await this.sender.replaceTrack(track);
  }

  /** Opens the microphone when a call starts, releases it when the last one ends. */
  async setInCall(inCall: boolean): Promise<void> {
    this.wanted = inCall;
    if (inCall && !this.microphone && !this.opening) {
      this.opening = this.openMicrophone().finally(() => (this.opening = null));
      await this.opening;
    }
    if (!this.wanted && this.microphone) this.releaseMicrophone();
  }

  private async openMicrophone(): Promise<void> {
    let stream: MediaStream;
    try {
      const audio: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
      if (this.microphoneId) audio.deviceId = { exact: this.microphoneId };
      stream = await navigator.mediaDevices.getUserMedia({ audio });
    } catch (error) {
      this.problem(`No microphone: ${error instanceof Error ? error.message : String(error)}. The call goes on; the other side cannot hear you.`);
      return;
    }
    if (!this.wanted) {
      stream.getTracks().forEach((track) => track.stop());
      return;
    }
    this.problems = this.problems.filter((p) => !p.startsWith("No microphone"));
    this.microphone = stream;
    const track = stream.getAudioTracks()[0] ?? null;
    if (track) track.enabled = !this.muted;
    await this.sender?.replaceTrack(track);
    this.changed();
  }

  private releaseMicrophone(): void {
    this.microphone?.getTracks().forEach((track) => track.stop());
    this.microphone = null;
    void this.sender?.replaceTrack(null).catch(() => undefined);
    this.muted = false;
    this.changed();
  }

  setMuted(muted: boolean): void {
    this.muted = muted;
    this.microphone?.getAudioTracks().forEach((track) => (track.enabled = !muted));
  }

  /** Switches devices; returns what the browser cannot do. */
  async choose(microphoneId: string | null, speakerId: string | null): Promise<string[]> {
    const switched = microphoneId !== this.microphoneId;
    this.microphoneId = microphoneId;
    if (switched && this.microphone) {
      this.releaseMicrophone();
      await this.setInCall(this.wanted);
    }
    return this.useSpeaker(speakerId);
  }

  private async useSpeaker(speakerId: string | null): Promise<string[]> {
    this.problems = this.problems.filter((p) => !p.startsWith("Speaker"));
    if (!canChooseSpeaker()) {
      if (speakerId) this.problem("Speaker: this browser cannot choose one; it plays calls on the system's speaker.");
      return this.problems;
    }
    try {
      await setSink(this.speaker, speakerId ?? "");
    } catch (error) {
      this.problem(`Speaker: ${error instanceof Error ? error.message : String(error)}; calls play on the system's speaker.`);
    }
    return this.problems;
  }

  soundProblems(): string[] {
    return this.problems;
  }

  /** Says what went wrong with sound, in words, until it is put right. */
  problem(words: string): void {
    if (!this.problems.includes(words)) this.problems = [...this.problems, words];
    this.changed();
  }

  async stats(): Promise<MediaStats> {
    const stats: MediaStats = {
      connected: this.peer?.connectionState === "connected",
      muted: this.muted,
      packets_sent: 0,
      packets_received: 0,
      loss: 0,
      jitter_ms: 0,
      buffer_delay_ms: 0,
      recovered_by_fec: 0,
      concealed: 0,
      input_dbfs: SILENT_DBFS,
      output_dbfs: SILENT_DBFS,
      microphone_open: this.microphone !== null,
      sound_problems: this.problems,
    };
    if (!this.peer) return stats;
    const report = await this.peer.getStats();
    report.forEach((entry: Record<string, unknown> & { type: string }) => {
      const number = (key: string) => (typeof entry[key] === "number" ? (entry[key] as number) : 0);
      if (entry.type === "inbound-rtp" && entry.kind === "audio") {
        const lost = Math.max(0, number("packetsLost"));
        stats.packets_received = number("packetsReceived");
        stats.loss = lost / Math.max(1, stats.packets_received + lost);
        stats.jitter_ms = number("jitter") * 1000;
        const emitted = number("jitterBufferEmittedCount");
        stats.buffer_delay_ms = emitted > 0 ? Math.round((number("jitterBufferDelay") / emitted) * 1000) : 0;
        stats.recovered_by_fec = number("fecPacketsReceived");
        stats.concealed = number("concealmentEvents");
        stats.output_dbfs = dbfs(entry.audioLevel as number | undefined);
      } else if (entry.type === "outbound-rtp" && entry.kind === "audio") {
        stats.packets_sent = number("packetsSent");
      } else if (entry.type === "media-source" && entry.kind === "audio") {
        stats.input_dbfs = this.microphone ? dbfs(entry.audioLevel as number | undefined) : SILENT_DBFS;
      }
    });
    return stats;
  }

  stop(): void {
    this.wanted = false;
    this.releaseMicrophone();
    this.closePeer();
    this.speaker.remove();
  }

  private closePeer(): void {
    this.peer?.close();
    this.peer = null;
    this.sender = null;
  }
}

/** `setSinkId`, which TypeScript's DOM types do not have everywhere yet. */
export function setSink(element: HTMLMediaElement, sinkId: string): Promise<void> {
  return (element as HTMLMediaElement & { setSinkId(id: string): Promise<void> }).setSinkId(sinkId);
}
