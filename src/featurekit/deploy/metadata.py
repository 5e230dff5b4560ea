"""A project's own distribution built from its source tree: the files of its package
folders and the ``*.dist-info`` a wheel carries (METADATA, WHEEL, entry_points.txt)."""

from __future__ import annotations

from featurekit.deploy.dists import Dist
from featurekit.deploy.project import Project, package_files


def _requirement_lines(project: Project) -> list[str]:
    lines = [f"Requires-Dist: {dep}" for dep in project.dependencies]
    for extra, deps in sorted(project.extras.items()):
        lines.append(f"Provides-Extra: {extra}")
        for dep in deps:
            spec, _, marker = dep.partition(";")
            cond = f'({marker.strip()}) and extra == "{extra}"' if marker else f'extra == "{extra}"'
            lines.append(f"Requires-Dist: {spec.strip()}; {cond}")
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
