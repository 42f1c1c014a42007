// Building the element's DOM: text always goes in as text, never as HTML.

export function element(tag, attributes = {}, text) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? "" : value);
  }
  if (text !== undefined) node.textContent = text;
  return node;
}
