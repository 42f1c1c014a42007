// The picture of a QRCODE checkpoint: the SVG the API drew (`qrcode_svg`) when it sent one,
// else the same drawn here from the text (`qrcode`) with the vendored encoder
// (vendor/uqr-0.1.3, MIT). The encoder loads only when it is needed.

const SERVER_SVG = /^data:image\/svg\+xml(;charset=[\w-]+)?;base64,[A-Za-z0-9+/=]+$/;

/** An `<img src>` for the checkpoint's QR code, or null when it carries none usable. */
export async function qrImageSource(checkpoint) {
  const drawn = checkpoint?.qrcode_svg;
  if (typeof drawn === "string" && SERVER_SVG.test(drawn)) return drawn;
  const text = checkpoint?.qrcode;
  if (typeof text !== "string" || text === "") return null;
  const { renderSVG } = await import("./vendor/uqr-0.1.3/index.mjs");
  // A quiet zone of four modules, as scanners expect; the image is scaled by CSS.
  const svg = renderSVG(text, { border: 4, ecc: "M" });
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}
