"""A researcher's own investor rules, named by dotted path in tests: the investors' one-pass
decide (agents.investor.InvestorPanel) must fall back to them, investor by investor."""


def half_tilt(expected_return: float, base_weight: float, risk_aversion: float) -> float:
    return max(0.0, base_weight * (1.0 + 0.5 * risk_aversion * expected_return))


def follow_the_best(current: str, fitness: dict[str, float], predisposition: dict[str, float], intensity: float,
                    draw: float) -> str:
    return max(fitness, key=fitness.get) if draw < 0.5 else current
