//! What a window manager does for the user: the suite's displays have none, so a
//! test moves, resizes and closes the app's window the same way (a configure
//! request; a `WM_DELETE_WINDOW` message, ICCCM 4.2.8.1, for the close button).

use std::time::Instant;

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    AtomEnum, ClientMessageEvent, ConfigureWindowAux, ConnectionExt, EventMask, MapState, Window,
};
use x11rb::rust_connection::RustConnection;

use crate::support::{POLL, UI_TIMEOUT};

/// A top-level window on a display, found by its title.
pub struct TopLevel {
    conn: RustConnection,
    window: Window,
}

impl TopLevel {
    /// Waits (up to [`UI_TIMEOUT`]) for a visible top-level window titled `title`.
    pub async fn find(display: &str, title: &str) -> Result<TopLevel, String> {
        let (conn, screen) =
            x11rb::connect(Some(display)).map_err(why("connecting to the display"))?;
        let root = conn.setup().roots[screen].root;
        let deadline = Instant::now() + UI_TIMEOUT;
        loop {
            if let Some(window) = titled(&conn, root, title)? {
                return Ok(TopLevel { conn, window });
            }
            if Instant::now() > deadline {
                return Err(format!("no visible window titled \"{title}\" on {display}"));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Moves and resizes the window, as a person dragging its frame would.
    pub fn place(&self, x: i32, y: i32, width: u32, height: u32) -> Result<(), String> {
        let geometry = ConfigureWindowAux::new().x(x).y(y).width(width).height(height);
        self.conn
            .configure_window(self.window, &geometry)
            .map_err(why("moving the window"))?
            .check()
            .map_err(why("moving the window"))
    }

    /// Asks the app to close the window, as its close button does.
    pub fn close(&self) -> Result<(), String> {
        let atom = |name: &[u8]| -> Result<u32, String> {
            let cookie = self.conn.intern_atom(false, name).map_err(why("naming an atom"))?;
            Ok(cookie.reply().map_err(why("naming an atom"))?.atom)
        };
        let (protocols, delete) = (atom(b"WM_PROTOCOLS")?, atom(b"WM_DELETE_WINDOW")?);
        let message = ClientMessageEvent::new(32, self.window, protocols, [delete, 0, 0, 0, 0]);
        self.conn
            .send_event(false, self.window, EventMask::NO_EVENT, message)
            .map_err(why("sending the close request"))?;
        self.conn.flush().map_err(why("sending the close request"))
    }
}

fn why<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> String {
    move |error| format!("{what}: {error}")
}

fn titled(conn: &impl Connection, root: Window, title: &str) -> Result<Option<Window>, String> {
    let tree = conn.query_tree(root).map_err(why("listing windows"))?;
    for window in tree.reply().map_err(why("listing windows"))?.children {
        let attributes = conn.get_window_attributes(window).map_err(why("reading a window"))?;
        if !attributes.reply().is_ok_and(|a| a.map_state == MapState::VIEWABLE) {
            continue;
        }
        let name = conn
            .get_property(false, window, AtomEnum::WM_NAME, AtomEnum::ANY, 0, 256)
            .map_err(why("reading a window's title"))?;
        if name.reply().is_ok_and(|name| name.value == title.as_bytes()) {
            return Ok(Some(window));
        }
    }
    Ok(None)
}
