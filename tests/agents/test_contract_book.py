"""A contract book's schedule read in bulk gives exactly what reading it month by month gives."""

from __future__ import annotations

import numpy as np

from agents.base import ContractBook
from model.contracts import TakeOrPay


def book_with(*contracts: TakeOrPay) -> ContractBook:
    book = ContractBook()
    for contract in contracts:
        book.add(contract)
    return book


def test_a_flat_and_a_ramped_contract_fill_the_schedule_month_by_month():
    flat = TakeOrPay(1, "Lab", "Cloud", 0.3, 1.7, start_step=2, end_step=6)
    ramped = TakeOrPay(2, "Lab", "Cloud", 0.9, 1.1, start_step=4, end_step=300, ramp_months=3)  # past the first 256 months
    book = book_with(flat, ramped)
    for step in range(0, 310):
        gw = flat.gw_at(step) + ramped.gw_at(step)
        rent = flat.gw_at(step) * 1.7 + ramped.gw_at(step) * 1.1
        assert book.gw_at(step) == gw
        assert book.rent_at(step) == rent


def test_rent_over_a_window_is_the_month_by_month_sum_to_the_bit():
    rng = np.random.default_rng(3)
    contracts = [TakeOrPay(i, "Lab", "Cloud", float(rng.uniform(0.01, 2.0)), float(rng.uniform(0.5, 3.0)),
                           start_step=int(s), end_step=int(s + rng.integers(1, 60)), ramp_months=int(rng.integers(0, 4)))
                 for i, s in enumerate(rng.integers(0, 240, size=40))]
    book = book_with(*contracts)
    book.end(contracts[5], 100)
    for first in (-3, 0, 17, 120, 250, 400):
        for window in (0, 1, 24, 60):
            expected = sum(book.rent_at(s) for s in range(first, first + window))
            assert book.rent_over(first, first + window) == expected


def test_peak_is_the_largest_month_of_the_window_and_zero_when_empty():
    book = book_with(TakeOrPay(1, "Lab", "Cloud", 0.5, 1.0, start_step=3, end_step=9),
                     TakeOrPay(2, "Lab", "Cloud", 0.25, 1.0, start_step=6, end_step=12))
    assert book.peak(0, 20) == 0.75
    assert book.peak(10, 20) == 0.25
    assert book.peak(12, 30) == 0.0
    assert book.peak(5, 4) == 0.0
    assert book.peak(400, 500) == 0.0
