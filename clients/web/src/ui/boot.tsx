import { render, type ComponentChildren } from "preact";
import "../styles/base.css";

export function boot(app: ComponentChildren): void {
  render(app, document.getElementById("app")!);
}
