"""Which SVGs a notebook may show live: an allow-list, checked on a real XML parse.

`live_svg` parses the markup with expat, namespaces resolved, and refuses any
DOCTYPE, entity declaration or processing instruction outright (so no entity ever
expands and no DTD is ever read). Then everything must be on an allow-list:

- elements: the SVG namespace's shapes, text, paint servers, filters, clipping and
  masking, structure (``g``, ``defs``, ``symbol``, ``use``, ``a``, ``image``, ``switch``)
  and declarative animation, unprefixed; nothing else, in any namespace (no ``script``,
  ``foreignObject``, ``iframe`` or HTML);
- attributes: geometry, presentation, filter, text, animation and accessibility
  attributes without a namespace, plus ``xlink:href``, ``xml:space`` and ``xml:lang``; no
  event handler, no ``xml:base``, no attribute of another namespace;
- values: a link (``href``) is an in-document ``#fragment``, or for ``<image>`` and
  ``<feImage>`` an inline PNG, JPEG, GIF or WebP ``data:`` URL; every other value (and
  CSS in ``style`` attributes and ``<style>`` elements) may call only colour, maths,
  transform and filter functions and ``url(#fragment)``; CSS has no escapes, comments
  or at-rules, and names only allow-listed properties; an animation may only animate
  allow-listed presentation and geometry attributes;
- and a ``<use>`` may not instance an element holding another ``<use>``, nor make the
  document draw more than `MAX_ELEMENTS` elements, so markup cannot expand
  exponentially in the viewer.

What is shown is not the original text but the checked parse written out again
(comments dropped, everything escaped), so an HTML front end, which parses markup
differently from XML, renders exactly what was checked. Nothing here needs a
dependency: ``xml.parsers.expat`` is in the standard library.
"""

from __future__ import annotations

import re
from xml.parsers import expat

__all__ = ["MAX_ELEMENTS", "UnsafeSVG", "live_svg", "svg_problem"]

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"

MAX_ELEMENTS = 200_000
"""Elements an SVG may make the viewer draw, counting each ``<use>`` instance."""
_MAX_DEPTH = 256


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_ELEMENTS = _words(
    """
    svg g defs symbol use desc title metadata switch a image style view
    path rect circle ellipse line polyline polygon text tspan textPath
    linearGradient radialGradient stop pattern clipPath mask marker filter
    feBlend feColorMatrix feComponentTransfer feComposite feConvolveMatrix
    feDiffuseLighting feDisplacementMap feDistantLight feDropShadow feFlood feFuncA
    feFuncB feFuncG feFuncR feGaussianBlur feImage feMerge feMergeNode feMorphology
    feOffset fePointLight feSpecularLighting feSpotLight feTile feTurbulence
    animate animateMotion animateTransform set mpath
    """
)

# Presentation attributes, which are also the CSS properties a style may set.
_PRESENTATION = _words(
    """
    alignment-baseline baseline-shift clip clip-path clip-rule color color-interpolation
    color-interpolation-filters color-rendering cursor direction display
    dominant-baseline fill fill-opacity fill-rule filter flood-color flood-opacity
    font-family font-size font-size-adjust font-stretch font-style font-variant
    font-weight glyph-orientation-horizontal glyph-orientation-vertical image-rendering
    isolation letter-spacing lighting-color marker-end marker-mid marker-start mask
    mask-type mix-blend-mode opacity overflow paint-order pointer-events shape-rendering
    stop-color stop-opacity stroke stroke-dasharray stroke-dashoffset stroke-linecap
    stroke-linejoin stroke-miterlimit stroke-opacity stroke-width text-anchor
    text-decoration text-rendering transform transform-origin unicode-bidi
    vector-effect visibility white-space word-spacing writing-mode
    """
)
_GEOMETRY = _words(
    """
    x y x1 y1 x2 y2 cx cy r rx ry fx fy fr width height d points pathLength offset
    """
)
_ATTRIBUTES = (
    _PRESENTATION
    | _GEOMETRY
    | _words(
        """
        id class style lang href viewBox preserveAspectRatio version baseProfile
        gradientUnits gradientTransform spreadMethod patternUnits patternContentUnits
        patternTransform clipPathUnits maskUnits maskContentUnits markerUnits markerWidth
        markerHeight refX refY orient filterUnits primitiveUnits in in2 result
        stdDeviation dx dy mode operator k1 k2 k3 k4 type values tableValues slope
        intercept amplitude exponent baseFrequency numOctaves seed stitchTiles scale
        xChannelSelector yChannelSelector radius kernelMatrix order divisor bias targetX
        targetY edgeMode preserveAlpha kernelUnitLength surfaceScale diffuseConstant
        specularConstant specularExponent azimuth elevation z pointsAtX pointsAtY
        pointsAtZ limitingConeAngle rotate textLength lengthAdjust startOffset method
        spacing side requiredFeatures requiredExtensions systemLanguage media
        role aria-label aria-hidden aria-labelledby aria-describedby focusable
        attributeName attributeType begin dur end min max restart repeatCount repeatDur
        calcMode keyTimes keySplines from to by additive accumulate path keyPoints origin
        """
    )
)
# Never read as a URL or as CSS, so free text is fine in them.
_TEXT_ATTRIBUTES = _words(
    """
    id class lang role aria-label aria-labelledby aria-describedby aria-hidden media
    systemLanguage requiredFeatures requiredExtensions
    """
)
_NAMESPACED = {(XLINK_NS, "href"): "xlink:href", (XML_NS, "space"): "xml:space"}
_NAMESPACED[(XML_NS, "lang")] = "xml:lang"
_ANIMATABLE = (
    _PRESENTATION
    | _GEOMETRY
    | _words("gradientTransform patternTransform startOffset textLength stdDeviation dx dy")
)
_CSS_PROPERTIES = _PRESENTATION | _GEOMETRY | _words("font line-height transform-box")
_FUNCTIONS = _words(
    """
    rgb rgba hsl hsla hwb lab lch oklab oklch calc min max clamp matrix translate
    translatex translatey scale scalex scaley rotate skewx skewy path blur brightness
    contrast drop-shadow grayscale hue-rotate invert opacity saturate sepia
    """
)

_FRAGMENT = re.compile(r"#[\w.:-]+")
_RASTER_DATA = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*", re.I)
_FUNCTION = re.compile(r"([A-Za-z_-][\w-]*)\s*\(")
_URL_FRAGMENT = re.compile(r"""url\(\s*(['"]?)#[\w.:-]+\1\s*\)""", re.I)
_CSS_RULE = re.compile(r"\s*([^{}]+)\{([^{}]*)\}\s*")
_SELECTOR = re.compile(r"[\w\s.#,>+~:*\[\]=\"'()|^$-]+")
_PROPERTY = re.compile(r"\s*([A-Za-z-]+)\s*:(.*)", re.S)


class UnsafeSVG(ValueError):
    """The SVG is not shown live; the message says what is not on the allow-list."""


def live_svg(data: bytes) -> str:
    """The markup to show live for SVG ``data``, written out from the checked parse.

    Raises `UnsafeSVG` naming the first thing that is not on the allow-list, or why
    the bytes are not well-formed XML.
    """
    return _Checker().run(data)


def svg_problem(data: bytes) -> str | None:
    """Why SVG ``data`` is not shown live, or ``None`` when everything is allowed."""
    try:
        live_svg(data)
    except UnsafeSVG as exc:
        return str(exc)
    return None


def _css_value_problem(value: str) -> str | None:
    """What in a CSS or attribute value could reach outside the document, if anything."""
    if "\\" in value:
        return "has an escape (\\)"
    if "/*" in value:
        return "has a CSS comment"
    if "@" in value:
        return "has a CSS at-rule or '@'"
    if "(" not in value:
        return None  # no function, so no url()
    for found in _FUNCTION.finditer(value):
        name = found.group(1).lower()
        if name == "url":
            if not _URL_FRAGMENT.match(value, found.start()):
                return "uses url() to something other than an in-document #fragment"
        elif name not in _FUNCTIONS:
            return f"uses the function {found.group(1)}()"
    return None


def _declarations_problem(css: str) -> str | None:
    problem = _css_value_problem(css)
    if problem is not None:
        return problem
    for part in css.split(";"):
        if not part.strip():
            continue
        declaration = _PROPERTY.fullmatch(part)
        if declaration is None:
            return f"has a declaration that is not 'property: value' ({part.strip()[:40]!r})"
        if declaration.group(1).lower() not in _CSS_PROPERTIES:
            return f"sets the property {declaration.group(1)!r}, which is not on the allow-list"
    return None


def _stylesheet_problem(css: str) -> str | None:
    if "<" in css:
        return "has '<' in its CSS"
    problem = _css_value_problem(css)
    if problem is not None:
        return problem
    pos = 0
    while pos < len(css):
        rule = _CSS_RULE.match(css, pos)
        if rule is None:
            if css[pos:].strip():
                return f"has CSS that is not 'selector {{ declarations }}' at {pos}"
            break
        if not _SELECTOR.fullmatch(rule.group(1)):
            return f"has a selector that is not on the allow-list ({rule.group(1).strip()[:40]!r})"
        problem = _declarations_problem(rule.group(2))
        if problem is not None:
            return problem
        pos = rule.end()
    return None


def _value_problem(tag: str, name: str, value: str) -> str | None:
    """What is wrong with one attribute's value, if anything."""
    if name == "href":
        if _FRAGMENT.fullmatch(value.strip()):
            return None
        if tag in ("image", "feImage") and _RASTER_DATA.fullmatch(value.strip()):
            return None
        return "links outside the document"
    if name == "style":
        return _declarations_problem(value)
    if name == "attributeName" and value.strip() not in _ANIMATABLE:
        return "animates an attribute that is not on the allow-list"
    if name == "attributeType" and value.strip() not in ("CSS", "XML", "auto"):
        return "is not CSS, XML or auto"
    if tag == "style" and name == "type" and value.strip() not in ("", "text/css"):
        return "is not text/css"
    if name in _TEXT_ATTRIBUTES:
        return None  # plain text to the viewer: never a URL, never CSS
    return _css_value_problem(value)


def _escape(text: str, quote: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if quote:
        text = text.replace('"', "&quot;").replace("\t", "&#9;").replace("\n", "&#10;")
        text = text.replace("\r", "&#13;")
    return text


class _Checker:
    """One pass of expat: every event checked against the allow-list, then written out."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.stack: list[str] = []  # open elements' local names
        self.pending = False  # a start tag written without its closing ">"
        self.style: list[str] | None = None  # text of the open <style>
        self.count = 0
        self.open_index: list[int] = []
        self.size: list[int] = []  # per element: its subtree's element count
        self.holds_use: list[bool] = []
        self.ids: dict[str, int] = {}
        self.uses: list[str] = []  # the id each <use> instances
        self.xlink = False  # an xlink: attribute was written

    def run(self, data: bytes) -> str:
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.namespace_prefixes = True
        parser.ordered_attributes = True
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = self.doctype
        parser.EntityDeclHandler = self.entity
        parser.UnparsedEntityDeclHandler = self.entity
        parser.NotationDeclHandler = self.entity
        parser.ExternalEntityRefHandler = self.external
        parser.SkippedEntityHandler = self.entity
        parser.ProcessingInstructionHandler = self.instruction
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.text
        try:
            parser.Parse(data, True)
        except expat.ExpatError as exc:
            raise UnsafeSVG(f"it is not well-formed XML ({exc})") from exc
        self.check_uses()
        if self.xlink:
            root = f'<svg xmlns="{SVG_NS}"'
            self.out[0] = self.out[0].replace(root, f'{root} xmlns:xlink="{XLINK_NS}"', 1)
        return "".join(self.out)

    # Refused outright: nothing declared in a DTD is ever read or expanded.
    def doctype(self, *args: object) -> None:
        raise UnsafeSVG("it has a DOCTYPE declaration (DTDs and entities are refused)")

    def entity(self, *args: object) -> None:
        raise UnsafeSVG("it declares or uses an entity (DTDs and entities are refused)")

    def external(self, *args: object) -> int:
        raise UnsafeSVG("it refers to an external entity (DTDs and entities are refused)")

    def instruction(self, target: str, data: str) -> None:
        raise UnsafeSVG(f"it has a processing instruction <?{target} ...?>")

    def start(self, name: str, attributes: list[str]) -> None:
        parts = name.split(" ")
        tag = parts[1] if len(parts) > 1 else parts[0]
        # Unprefixed, in the SVG namespace or in none (the markup is written out in it).
        if len(parts) > 2 or (len(parts) == 2 and parts[0] != SVG_NS) or tag not in _ELEMENTS:
            raise UnsafeSVG(f"{_describe(parts, '<', '>')} is not an element on the allow-list")
        if not self.stack and tag != "svg":
            raise UnsafeSVG(f"its root element is <{tag}>, not <svg>")
        if self.style is not None:
            raise UnsafeSVG("<style> holds an element")
        if len(self.stack) >= _MAX_DEPTH:
            raise UnsafeSVG(f"its elements nest deeper than {_MAX_DEPTH}")
        if self.count >= MAX_ELEMENTS:
            raise UnsafeSVG(f"it has more than {MAX_ELEMENTS:,} elements")
        self.flush()
        written = [f"<{tag}"]
        if not self.stack:
            written.append(f' xmlns="{SVG_NS}"')  # and xlink's, once it is known to be used
        values = dict(zip(attributes[::2], attributes[1::2], strict=True))
        for key, value in values.items():
            written.append(f' {self.attribute(tag, key, value)}="{_escape(value, True)}"')
        self.out.append("".join(written))
        self.pending = True
        self.track(tag, values)
        self.stack.append(tag)
        if tag == "style":
            self.style = []

    def attribute(self, tag: str, key: str, value: str) -> str:
        """Check one attribute; return the name to write it under."""
        parts = key.split(" ")
        if len(parts) == 1 and parts[0] in _ATTRIBUTES:
            written = parts[0]
        elif len(parts) == 3 and (parts[0], parts[1]) in _NAMESPACED:
            written = _NAMESPACED[(parts[0], parts[1])]
            self.xlink |= parts[0] == XLINK_NS
            if parts[2] != written.split(":")[0]:
                raise UnsafeSVG(f"<{tag}> uses the prefix {parts[2]!r} for {written}")
        else:
            raise UnsafeSVG(
                f"<{tag}> has an attribute {_describe(parts, '', '')!r} "
                "that is not on the allow-list"
            )
        local = written.split(":")[-1]
        problem = _value_problem(tag, local, value)
        if problem is not None:
            raise UnsafeSVG(f"<{tag}> {written}={value[:60]!r} {problem}")
        return written

    def track(self, tag: str, values: dict[str, str]) -> None:
        """Remember ids and ``<use>`` references, to bound what instancing draws."""
        index = self.count
        self.count += 1
        self.size.append(1)
        self.holds_use.append(tag == "use")
        self.open_index.append(index)
        element_id = values.get("id")
        if element_id is not None:
            self.ids.setdefault(element_id, index)
        if tag == "use":
            link = values.get("href", values.get(f"{XLINK_NS} href xlink", ""))
            self.uses.append(link.strip()[1:])

    def end(self, name: str) -> None:
        tag = self.stack.pop()
        if tag == "style" and self.style is not None:
            problem = _stylesheet_problem("".join(self.style))
            if problem is not None:
                raise UnsafeSVG(f"<style> {problem}")
            self.style = None
        index = self.open_index.pop()
        self.size[index] = self.count - index
        if self.open_index and self.holds_use[index]:
            self.holds_use[self.open_index[-1]] = True
        if self.pending:
            self.out.append("/>")
            self.pending = False
        else:
            self.out.append(f"</{tag}>")

    def text(self, text: str) -> None:
        if self.style is not None:
            self.style.append(text)
        self.flush()
        self.out.append(_escape(text))

    def flush(self) -> None:
        if self.pending:
            self.out.append(">")
            self.pending = False

    def check_uses(self) -> None:
        drawn = self.count
        for target in self.uses:
            index = self.ids.get(target)
            if index is None:
                continue  # a dangling reference draws nothing
            if self.holds_use[index]:
                raise UnsafeSVG(
                    f"a <use> instances #{target}, which holds a <use> itself "
                    "(nested instancing can grow exponentially)"
                )
            drawn += self.size[index]
        if drawn > MAX_ELEMENTS:
            raise UnsafeSVG(
                f"its <use> elements make it draw {drawn:,} elements, over {MAX_ELEMENTS:,}"
            )


def _describe(parts: list[str], before: str, after: str) -> str:
    """A refused element or attribute name, with its namespace when it has one."""
    if len(parts) == 1:
        return f"{before}{parts[0]}{after} (no namespace)" if before else parts[0]
    shown = f"{parts[2]}:{parts[1]}" if len(parts) == 3 else parts[1]
    return f"{before}{shown}{after} (in namespace {parts[0]})"
