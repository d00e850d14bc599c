import { t, useLang } from "../lib/i18n";
import { boot } from "../ui/boot";
import { LangSwitch } from "../ui/common";

const CONSOLES = ["chair", "delegate", "gallery", "room", "operator"] as const;
// The linked hall's console came with the video links; its strings are under video.*.
const title = (c: string) => t(c === "room" ? "video.room.console" : `web.console.${c}`);
const blurb = (c: string) => t(c === "room" ? "video.room.landing" : `web.landing.${c}`);

function Landing() {
  useLang();
  const qs = location.search;
  return (
    <main class="landing">
      <header class="top">
        <div class="top-title">
          <span class="brand">{t("web.brand")}</span>
          <span class="console-name">{t("web.landing.tagline")}</span>
        </div>
        <div class="top-tools">
          <LangSwitch />
        </div>
      </header>
      <div class="grid landing-grid">
        {CONSOLES.map((c) => (
          <a class="card landing-card" href={`/${c}/${qs}`} key={c}>
            <h2>{title(c)}</h2>
            <p>{blurb(c)}</p>
          </a>
        ))}
      </div>
    </main>
  );
}

boot(<Landing />);
