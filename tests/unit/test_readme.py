"""The README is a front page (issue 30): at most 300 lines, the Quickstart's two commands
first (the second is the one CI runs), and every link into the repo leads to a file.
mkdocs checks the links of docs/; nothing else reads the README's."""

from __future__ import annotations

import re

import pytest

from tests.s3servers import REPO

pytestmark = pytest.mark.unit

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_the_readme_is_a_front_page_of_at_most_300_lines() -> None:
    assert len(README.splitlines()) <= 300


def test_the_quickstart_comes_first_with_two_commands_the_second_the_one_ci_runs() -> None:
    sections = re.findall(r"^## (.+)$", README, re.MULTILINE)
    assert sections[0] == "Quickstart"
    quickstart = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", quickstart, re.DOTALL)
    assert block
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    assert commands == ["./dev demo", "./dev test"]
    assert "./dev test" in (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()


def test_every_link_of_the_readme_into_the_repo_leads_to_a_file() -> None:
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    local = [target for target in targets if "://" not in target]
    assert local
    missing = [target for target in local if not (REPO / target).exists()]
    assert not missing, missing
