import { resolve } from "node:path";
import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

const here = import.meta.dirname;
const pages = ["chair", "delegate", "gallery", "operator", "room"];

export default defineConfig({
  base: "/",
  root: here,
  plugins: [preact()],
  server: {
    // The catalogues live in server/locale, two levels up.
    fs: { allow: [here, resolve(here, "../../server/locale")] },
    proxy: {
      "/api": "http://127.0.0.1:8000",
      "/ws": { target: "ws://127.0.0.1:8000", ws: true },
    },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      input: {
        index: resolve(here, "index.html"),
        ...Object.fromEntries(pages.map((p) => [p, resolve(here, p, "index.html")])),
      },
    },
  },
});
