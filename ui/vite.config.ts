import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// Two builds of the same UI: `vite build` for the desktop app (ui/dist, embedded by
// Tauri; its engine is the app's Rust side) and `vite build --mode web` for the
// browser (ui/dist-web, embedded by callpark-server; its engine is the client
// session compiled to WebAssembly). No dev server URL is configured, so what the
// WebDriver suites drive is exactly what ships.
export default defineConfig(({ mode }) => {
  const web = mode === "web";
  const backend = web ? "./src/web/backend.ts" : "./src/tauri/backend.ts";
  return {
    clearScreen: false,
    resolve: { alias: { "@backend": fileURLToPath(new URL(backend, import.meta.url)) } },
    build: {
      outDir: web ? "dist-web" : "dist",
      emptyOutDir: true,
      // The desktop's web views (WebKitGTK, WebView2, WKWebView), or the browsers
      // with WebRTC's setSinkId-era APIs.
      target: web ? "es2022" : "safari15",
      sourcemap: false,
      // The WebAssembly module stays a file of its own (cached, streamed).
      assetsInlineLimit: 0,
    },
  };
});
