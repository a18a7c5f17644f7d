// Refusals in plain words. The service's own messages already are; the client's
// connection errors get a sentence a person can act on.
import type { AppError, Connection, EndedPark } from "./api";

export function inWords(error: AppError): string {
  switch (error.code) {
    case "unreachable":
      return "Cannot reach the server. Check the address, and that Callpark is running there.";
    case "bad_url":
      return "That is not a server address. Use http://host:port or https://host:port.";
    case "closed":
      return "The connection to the server is lost. Reconnecting…";
    case "timeout":
      return "The server did not answer in time. Try again.";
    case "unauthorized":
      return "Wrong login name or password.";
    default:
      return error.message;
  }
}

export function connectionInWords(connection: Connection): string {
  switch (connection.state) {
    case "online":
      return "Online";
    case "connecting":
      return "Connecting…";
    case "reconnecting":
      return `Connection lost — reconnecting (attempt ${connection.attempt})…`;
    case "signed_out":
      return `Signed out: ${connection.reason}`;
    case "stopped":
      return "Offline";
  }
}

/** How one of my parks ended, as a sentence (the same words as the CLI's). */
export function endedParkInWords(ended: EndedPark): string {
  const caller = ended.caller.name;
  const code = ended.code;
  const by = ended.by?.name ?? "someone";
  switch (ended.outcome) {
    case "retrieved":
      return `${by} picked up ${caller} (code ${code}).`;
    case "ringback_answered":
      return `You took ${caller} back when the call rang back (code ${code}).`;
    case "caller_left":
      return `${caller} hung up while parked (code ${code}).`;
    case "voicemail":
      return `Nobody picked up ${caller} (code ${code}); they went to your voicemail.`;
    case "forwarded":
      return `Nobody picked up ${caller} (code ${code}); the call went to ${by}.`;
    case "disconnected":
      return `Nobody picked up ${caller} (code ${code}); the call ended.`;
    case "lost":
      return `${caller}'s call (code ${code}) was lost when the service restarted.`;
  }
}
