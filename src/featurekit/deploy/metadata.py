"""A project's own distribution built from its source tree: the files of its package
folders and the ``*.dist-info`` a wheel carries (METADATA, WHEEL, entry_points.txt)."""

from __future__ import annotations

from featurekit.deploy.dists import Dist, requirement_name
from featurekit.deploy.project import Project, package_files


def _spec(spec: str) -> str:
    """featurekit by name and version: the project names it by a direct reference
    (``featurekit @ file:///...``, a folder of this machine, since no package index has
    it) and the package ships featurekit's wheel beside the project's."""
    name, at, _ = spec.partition("@")
    if not at or requirement_name(name) != "featurekit":
        return spec
    from featurekit import __version__

    return f"{name.strip()}=={__version__}"


def _requirement(dep: str, extra: str = "") -> str:
    spec, _, marker = (part.strip() for part in dep.partition(";"))
    spec = _spec(spec)
    cond = marker
    if extra:
        cond = f'({marker}) and extra == "{extra}"' if marker else f'extra == "{extra}"'
    if not cond:
        return spec
    # PEP 508: a URL ends at whitespace, so a space keeps the marker out of it
    return f"{spec} ; {cond}" if "@" in spec else f"{spec}; {cond}"


def _requirement_lines(project: Project) -> list[str]:
    lines = [f"Requires-Dist: {_requirement(dep)}" for dep in project.dependencies]
    for extra, deps in sorted(project.extras.items()):
        lines.append(f"Provides-Extra: {extra}")
        lines += [f"Requires-Dist: {_requirement(dep, extra)}" for dep in deps]
    return lines


def _metadata(project: Project) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project.name}",
        f"Version: {project.version}",
        f"Summary: {project.summary}",
        f"License: {project.license}",
        f"Requires-Python: {project.requires_python}",
        *_requirement_lines(project),
    ]
    return "\n".join(lines) + "\n"


def _entry_points_txt(project: Project) -> str:
    blocks = []
    for group, items in sorted(project.entry_points.items()):
        body = "\n".join(f"{k} = {v}" for k, v in sorted(items.items()))
        blocks.append(f"[{group}]\n{body}\n")
    return "\n".join(blocks)


def project_dist(project: Project) -> Dist:
    """The project's own distribution, from its source tree."""
    files = package_files(project, project.packages)
    entries = [(name, path.read_bytes()) for name, path in files]
    info = f"{project.dist_name}-{project.version}.dist-info"
    wheel = "Wheel-Version: 1.0\nGenerator: featurekit package\nRoot-Is-Purelib: true\n"
    entries += [
        (f"{info}/METADATA", _metadata(project).encode()),
        (f"{info}/WHEEL", (wheel + "Tag: py3-none-any\n").encode()),
        (f"{info}/entry_points.txt", _entry_points_txt(project).encode()),
    ]
    return Dist(project.name, project.version, tuple(entries))
