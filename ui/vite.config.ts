import { defineConfig } from "vite";

// The desktop app embeds ui/dist; no dev server URL is configured, so what the
// WebDriver suite drives is exactly what ships.
export default defineConfig({
  clearScreen: false,
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "safari15",
    sourcemap: false,
  },
});
