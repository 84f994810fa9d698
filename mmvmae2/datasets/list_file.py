"""Reading annotation lists and class-name files: one place for what counts
as a line."""
from typing import Iterator, List, Optional, Tuple

from mmengine import fileio


def read_list_lines(ann_file: str, delimiter: Optional[str] = None,
                    backend_args: Optional[dict] = None) -> Iterator[Tuple[int, List[str]]]:
    """``(line number, fields)`` of the non-blank, non-``#`` lines of a list
    file (numbers count every line, so errors can name the line)."""
    text = fileio.get_text(ann_file, backend_args=backend_args)
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.strip() and not line.lstrip().startswith('#'):
            yield lineno, line.strip().split(delimiter)


def read_class_names(path: str) -> List[str]:
    """Class names of a label-map file, one per non-blank line (line ``i``
    names class ``i``), stripped."""
    with open(path, encoding='utf-8') as f:
        return [line.strip() for line in f if line.strip()]
