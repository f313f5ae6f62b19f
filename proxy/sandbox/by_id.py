"""The part every sandbox store shares: resources kept by id, in the order they were added."""

from __future__ import annotations

from typing import Generic, Iterator, TypeVar

T = TypeVar("T")


class ById(Generic[T]):
    def __init__(self) -> None:
        self._by_id: dict[str, T] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[T]:
        return iter(self._by_id.values())

    def get(self, resource_id: str) -> T | None:
        return self._by_id.get(resource_id)
