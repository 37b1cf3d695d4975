//! "Did you mean" suggestions for misspelled names, with bounded work: long
//! names get no suggestion, candidates whose length alone rules them out cost
//! nothing, distances are computed only within the band that can matter, and
//! a [`Suggester`] stops searching once it has spent its budget.

/// Names longer than this (in characters) get no suggestion.
pub const LONGEST: usize = 128;

/// Distance-table cells one [`Suggester`] may compute in all (tens of
/// milliseconds of work).
const BUDGET: usize = 50_000_000;

/// The edit distance between two strings (insert, delete, substitute, swap
/// of neighbours).
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let limit = a.len().max(b.len());
    banded(&a, &b, limit, &mut Rows::default()).unwrap_or(limit)
}

#[derive(Default)]
struct Rows {
    prev2: Vec<usize>,
    prev: Vec<usize>,
    cur: Vec<usize>,
    /// Cells computed by the last call.
    cells: usize,
}

/// The distance if it is at most `limit`; cells farther than `limit` from
/// the diagonal are never computed.
fn banded(a: &[char], b: &[char], limit: usize, rows: &mut Rows) -> Option<usize> {
    rows.cells = 0;
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    let far = limit + 1;
    let width = b.len() + 1;
    for row in [&mut rows.prev2, &mut rows.prev, &mut rows.cur] {
        row.clear();
        row.resize(width, far);
    }
    for (j, cell) in rows
        .prev
        .iter_mut()
        .enumerate()
        .take(limit.min(b.len()) + 1)
    {
        *cell = j;
    }
    for i in 1..=a.len() {
        let lo = i.saturating_sub(limit).max(1);
        let hi = (i + limit).min(b.len());
        rows.cells += hi + 1 - lo.min(hi + 1);
        rows.cur.fill(far);
        if i <= limit {
            rows.cur[0] = i;
        }
        let mut best = rows.cur[0];
        for j in lo..=hi {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows.prev[j] + 1)
                .min(rows.cur[j - 1] + 1)
                .min(rows.prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows.prev2[j - 2] + 1);
            }
            rows.cur[j] = d.min(far);
            best = best.min(rows.cur[j]);
        }
        if best > limit {
            return None;
        }
        std::mem::swap(&mut rows.prev2, &mut rows.prev);
        std::mem::swap(&mut rows.prev, &mut rows.cur);
    }
    Some(rows.prev[b.len()]).filter(|d| *d <= limit)
}

/// Finds likely intended names, spending at most a fixed amount of work over
/// all its searches (so a file with thousands of misspellings still loads
/// quickly; the later ones just get no suggestion).
pub struct Suggester {
    budget: usize,
    rows: Rows,
}

impl Default for Suggester {
    fn default() -> Self {
        Self::new()
    }
}

impl Suggester {
    /// A suggester with the full budget.
    pub fn new() -> Self {
        Suggester {
            budget: BUDGET,
            rows: Rows::default(),
        }
    }

    /// The candidate closest to `target`, if close enough to be a likely typo.
    pub fn closest<'a>(
        &mut self,
        target: &str,
        candidates: impl IntoIterator<Item = &'a str>,
    ) -> Option<&'a str> {
        let t: Vec<char> = target.chars().take(LONGEST + 1).collect();
        if t.len() > LONGEST {
            return None;
        }
        let limit = (t.len() / 3).max(2);
        let mut best: Option<(usize, &str)> = None;
        let mut c = Vec::new();
        for cand in candidates {
            // A name's byte length bounds its length in characters from both sides.
            if cand.len() + limit < t.len() || cand.len() > 4 * (t.len() + limit) {
                continue;
            }
            if self.budget == 0 {
                break;
            }
            c.clear();
            c.extend(cand.chars());
            let found = banded(&t, &c, limit, &mut self.rows);
            self.budget = self.budget.saturating_sub(self.rows.cells.max(1));
            if let Some(d) = found {
                if best.is_none_or(|(bd, bc)| (d, cand) < (bd, bc)) {
                    best = Some((d, cand));
                }
            }
        }
        best.map(|(_, c)| c)
    }

    /// `; did you mean `x`?` or nothing.
    pub fn did_you_mean<'a>(
        &mut self,
        target: &str,
        candidates: impl IntoIterator<Item = &'a str>,
    ) -> String {
        match self.closest(target, candidates) {
            Some(c) => format!("; did you mean `{c}`?"),
            None => String::new(),
        }
    }
}

/// The candidate closest to `target`, if it is close enough to be a likely typo.
pub fn closest<'a>(target: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    Suggester::new().closest(target, candidates)
}

/// `; did you mean `x`?` or nothing.
pub fn did_you_mean<'a>(target: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    Suggester::new().did_you_mean(target, candidates)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook full-table distance, to check the banded one against.
    fn full(a: &str, b: &str) -> usize {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
        for (i, row) in d.iter_mut().enumerate() {
            row[0] = i;
        }
        d[0] = (0..=b.len()).collect();
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                d[i][j] = (d[i - 1][j] + 1)
                    .min(d[i][j - 1] + 1)
                    .min(d[i - 1][j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
                }
            }
        }
        d[a.len()][b.len()]
    }

    #[test]
    fn banded_distance_agrees_with_the_full_table() {
        let words = [
            "",
            "a",
            "ab",
            "ba",
            "abc",
            "acb",
            "gen_ai.agent.name",
            "gen_ai.agnet.name",
            "gen_ai.agent.nme",
            "error.type",
            "endpiont",
            "endpoint",
            "kitten",
            "sitting",
            "é",
            "ée",
        ];
        for a in words {
            for b in words {
                let f = full(a, b);
                assert_eq!(distance(a, b), f, "{a} / {b}");
                let (ac, bc): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
                for limit in 0..6 {
                    let got = banded(&ac, &bc, limit, &mut Rows::default());
                    assert_eq!(got, (f <= limit).then_some(f), "{a} / {b} within {limit}");
                }
            }
        }
    }

    #[test]
    fn suggestions() {
        let c = ["gen_ai.agent.name", "gen_ai.agent.id", "error.type"];
        assert_eq!(closest("gen_ai.agent.nme", c), Some("gen_ai.agent.name"));
        assert_eq!(closest("gen_ai.agnet.name", c), Some("gen_ai.agent.name"));
        assert_eq!(closest("totally.different", c), None);
        assert_eq!(
            closest("endpiont", ["endpoint", "headers"]),
            Some("endpoint")
        );
        assert_eq!(did_you_mean("x".repeat(200).as_str(), ["x"]), "");
    }

    #[test]
    fn work_is_bounded_however_many_and_long_the_names() {
        let names: Vec<String> = (0..5000)
            .map(|i| format!("app.attribute.number_{i}"))
            .collect();
        let mut s = Suggester::new();
        let huge = "a".repeat(400_000);
        assert_eq!(s.closest(&huge, names.iter().map(String::as_str)), None);
        assert_eq!(
            s.budget, BUDGET,
            "a name too long for a suggestion costs nothing"
        );
        assert_eq!(
            s.closest("app.atribute.number_7", names.iter().map(String::as_str)),
            Some("app.attribute.number_7")
        );
        for i in 0..5000 {
            s.closest(
                &format!("app.atribute.number_{i}x"),
                names.iter().map(String::as_str),
            );
        }
        assert_eq!(s.budget, 0, "thousands of searches stop at the budget");
    }
}
