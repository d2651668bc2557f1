"""The public API surface: one sorted __all__, every name resolvable and documented."""

from __future__ import annotations

import inspect
import subprocess
import sys

import imgcall


def test_all_is_sorted_and_unique() -> None:
    assert imgcall.__all__ == sorted(set(imgcall.__all__))


def test_every_public_name_resolves_and_is_exported() -> None:
    for name in imgcall.__all__:
        assert getattr(imgcall, name) is not None, name
    lazy = set(imgcall._EXPORTS)
    assert lazy | {"__version__"} == set(imgcall.__all__)


def test_every_lazy_name_points_at_the_module_that_defines_it() -> None:
    for name, module in imgcall._EXPORTS.items():
        assert getattr(imgcall, name).__module__ == f"imgcall.{module}", name


def test_every_public_name_has_a_docstring() -> None:
    for name in imgcall.__all__:
        value = getattr(imgcall, name)
        if name == "__version__":
            continue
        assert inspect.getdoc(value), f"{name} has no docstring"


def test_spec_names_are_public() -> None:
    """The names SPEC.md promises (sections 2-5) are all there."""
    spec = {
        "ImageGenerationCall",
        "ImageGenerationStatus",
        "parse_call",
        "iter_calls",
        "iter_images",
        "decode",
        "DecodedImage",
        "Limits",
        "Problem",
        "ImgcallError",
        "InvalidInputError",
        "InvalidItemError",
        "ImageNotReadyError",
        "ImageGenerationFailedError",
        "EmptyResultError",
        "InvalidBase64Error",
        "UnsupportedResultError",
        "UnsupportedImageError",
        "ImageTooLargeError",
        "CorruptImageError",
        "OutputExistsError",
        "OutputError",
    }
    assert spec <= set(imgcall.__all__)


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        imgcall.no_such_name  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")


def test_import_is_light() -> None:
    """`import imgcall` loads neither pydantic nor Pillow until a name needs them."""
    heavy = "('pydantic', 'PIL', 'click', 'IPython')"
    code = f"import sys, imgcall; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_version_is_the_package_metadata_version() -> None:
    from importlib.metadata import version

    assert imgcall.__version__ == version("imgcall")
