"""Sphinx extension for the student build: hide gated solutions when ``hide_solutions`` is on.

sphinx-exercise 1.2's ``hide_solutions`` drops a ``{solution-start}`` directive but leaves what
follows it (the solution's prose and code cells) and its ``{solution-end}``, whose node then
crashes the HTML writer (executablebooks/sphinx-exercise#89). With this extension loaded (only
the student build loads it, see ``python3 dev.py student-book``), a hidden ``{solution-start}``
leaves a marker, and a transform removes everything from the marker to its ``{solution-end}``.
Without ``hide_solutions`` it changes nothing.
"""

from docutils import nodes
from sphinx.transforms import SphinxTransform
from sphinx_exercise.directive import SolutionStartDirective
from sphinx_exercise.nodes import solution_end_node


class hidden_solution_start(nodes.Element):
    """Where a hidden gated solution starts: removed, with its content, by :class:`RemoveHiddenSolutions`."""


class HideableSolutionStart(SolutionStartDirective):
    def run(self):
        shown = super().run()  # records the gated structure that sphinx-exercise checks
        return [hidden_solution_start()] if self.env.app.config.hide_solutions else shown


class RemoveHiddenSolutions(SphinxTransform):
    default_priority = 9  # before sphinx-exercise merges gated solutions (10)

    def apply(self):
        for marker in list(self.document.findall(hidden_solution_start)):
            parent = marker.parent
            start = parent.index(marker)
            end = next(
                (i for i in range(start, len(parent)) if isinstance(parent[i], solution_end_node)),
                None,
            )
            if end is None:
                raise ValueError(
                    f"{self.env.docname}: a hidden solution-start has no solution-end after it"
                )
            for child in parent.children[start : end + 1]:
                parent.remove(child)


def setup(app):
    app.setup_extension("sphinx_exercise")
    app.add_node(hidden_solution_start)
    app.add_directive("solution-start", HideableSolutionStart, override=True)
    app.add_transform(RemoveHiddenSolutions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
