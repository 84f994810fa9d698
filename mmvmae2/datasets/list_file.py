"""Reading annotation lists: one place for what counts as a line."""
from typing import Iterator, List, Optional, Tuple

from mmengine import fileio


def list_lines(ann_file: str, delimiter: Optional[str] = None,
               backend_args: Optional[dict] = None) -> Iterator[Tuple[int, List[str]]]:
    """``(line number, fields)`` of the non-blank, non-``#`` lines of a list
    file (numbers count every line, so errors can name the line)."""
    text = fileio.get_text(ann_file, backend_args=backend_args)
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.strip() and not line.lstrip().startswith('#'):
            yield lineno, line.strip().split(delimiter)
