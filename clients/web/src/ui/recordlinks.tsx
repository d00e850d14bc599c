// Links to the record after the sitting (docs/open-data.md): the minutes as PDF in the
// console's language, the public results page and the open data, none behind a login.
import { t, useLang } from "../lib/i18n";
import "./recordlinks.css";

export function RecordLinks({ sitting }: { sitting: string }) {
  const lang = useLang();
  const id = encodeURIComponent(sitting);
  return (
    <nav class="record-links" aria-label={t("web.record.label")}>
      <a href={`/api/sittings/${id}/minutes.pdf?lang=${lang}`} download data-testid="record-minutes">
        {t("web.record.minutes")}
      </a>
      <a href={`/results/sittings/${id}?lang=${lang}`} target="_blank" rel="noopener" data-testid="record-results">
        {t("web.record.results")}
      </a>
      <a href={`/api/sittings/${id}/votes.json`} target="_blank" rel="noopener" data-testid="record-open-data">
        {t("web.record.open_data")}
      </a>
    </nav>
  );
}
