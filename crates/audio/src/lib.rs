//! Callpark's audio: audio in and out as 20 ms frames (sound devices, WAV files or
//! headless sources and sinks), rate conversion, Opus, the sans-IO jitter buffer,
//! test tones and their detection. It knows nothing of signaling or of the media
//! link; the client's media link (`callpark_client::media`) drives it.

pub mod device;
pub mod io;
pub mod jitter;
pub mod ogg_opus;
pub mod playback;
pub mod resample;
pub mod slack;
pub mod tone;
pub mod voice;
pub mod wav;

pub use device::{
    DeviceChoice, DeviceError, DeviceInfo, DeviceList, Direction, Microphone, Speaker,
    check_device, list_devices,
};
pub use io::{
    AnalysingSink, AudioSink, AudioSource, DiscardSink, Gate, GatedSink, GatedSource, Heard,
    SilentSource,
};
pub use jitter::{JitterBuffer, JitterConfig, JitterStats, Playout};
pub use ogg_opus::{OggOpusError, SamplesSource, decode_ogg_opus};
pub use playback::Playback;
pub use slack::SlackMeter;
pub use tone::{ToneSource, tone_present, tone_share};
pub use voice::{VoiceDecoder, VoiceEncoder, level_dbfs};
pub use wav::{WavError, WavSink, WavSource};
