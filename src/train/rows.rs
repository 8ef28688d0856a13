//! The rows a linear model's objective reads: the design matrix as it is, or, when most
//! of its entries are zero (one-hot levels), each row's non-zero entries only, so that a
//! gradient costs a row's non-zero entries instead of its width.

use super::matrix::Matrix;
use std::borrow::Cow;

pub enum Rows<'a> {
    Dense(Cow<'a, Matrix>),
    /// Compressed rows: row `i`'s entries are `starts[i]..starts[i + 1]`.
    Sparse {
        cols: usize,
        starts: Vec<usize>,
        columns: Vec<u32>,
        values: Vec<f64>,
    },
}

impl<'a> Rows<'a> {
    /// Sparse when at most half of the entries are non-zero.
    pub fn of(x: &'a Matrix) -> Rows<'a> {
        match compressed(x) {
            Some(rows) => rows,
            None => Rows::Dense(Cow::Borrowed(x)),
        }
    }

    /// [`Rows::of`] a matrix it keeps when dense.
    pub fn from_matrix(x: Matrix) -> Rows<'static> {
        match compressed(&x) {
            Some(rows) => rows,
            None => Rows::Dense(Cow::Owned(x)),
        }
    }

    /// A matrix read as it is.
    pub fn dense(x: &'a Matrix) -> Rows<'a> {
        Rows::Dense(Cow::Borrowed(x))
    }

    /// Compressed rows from `per_row` slots a row, in column order, of `cols` columns;
    /// a slot whose value is zero holds no entry.
    pub fn of_slots(
        per_row: usize,
        cols: usize,
        mut columns: Vec<u32>,
        mut values: Vec<f64>,
    ) -> Rows<'static> {
        let rows = columns.len().checked_div(per_row).unwrap_or(0);
        let mut starts = Vec::with_capacity(rows + 1);
        starts.push(0);
        let mut kept = 0;
        for i in 0..rows {
            for slot in i * per_row..(i + 1) * per_row {
                if values[slot] != 0.0 {
                    (columns[kept], values[kept]) = (columns[slot], values[slot]);
                    kept += 1;
                }
            }
            starts.push(kept);
        }
        columns.truncate(kept);
        values.truncate(kept);
        Rows::Sparse {
            cols,
            starts,
            columns,
            values,
        }
    }

    pub fn rows(&self) -> usize {
        match self {
            Rows::Dense(x) => x.rows,
            Rows::Sparse { starts, .. } => starts.len().saturating_sub(1),
        }
    }

    pub fn cols(&self) -> usize {
        match self {
            Rows::Dense(x) => x.cols,
            Rows::Sparse { cols, .. } => *cols,
        }
    }

    /// `f(column, value)` for row `i`'s entries in column order: every column of a dense
    /// row, the non-zero ones of a compressed row.
    #[inline]
    pub fn for_each_entry(&self, i: usize, mut f: impl FnMut(usize, f64)) {
        match self {
            Rows::Dense(x) => x.row(i).iter().enumerate().for_each(|(j, &v)| f(j, v)),
            Rows::Sparse { .. } => self.entries(i).for_each(|(j, v)| f(j, v)),
        }
    }

    /// Whether every entry is a finite number.
    pub fn all_finite(&self) -> bool {
        match self {
            Rows::Dense(x) => x.data.iter().all(|v| v.is_finite()),
            Rows::Sparse { values, .. } => values.iter().all(|v| v.is_finite()),
        }
    }

    /// Row `i` times `w`.
    #[inline]
    pub fn dot(&self, i: usize, w: &[f64]) -> f64 {
        match self {
            Rows::Dense(x) => x.row(i).iter().zip(w).map(|(a, b)| a * b).sum(),
            Rows::Sparse { .. } => self.entries(i).map(|(j, v)| v * w[j]).sum(),
        }
    }

    /// `g += r × row i`.
    #[inline]
    pub fn add_to(&self, i: usize, r: f64, g: &mut [f64]) {
        match self {
            Rows::Dense(x) => g
                .iter_mut()
                .zip(x.row(i))
                .for_each(|(gj, xj)| *gj += r * xj),
            Rows::Sparse { .. } => self.entries(i).for_each(|(j, v)| g[j] += r * v),
        }
    }

    /// Row `i`'s non-zero entries, column and value (none for dense rows).
    #[inline]
    fn entries(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let (columns, values): (&[u32], &[f64]) = match self {
            Rows::Sparse {
                starts,
                columns,
                values,
                ..
            } => {
                let at = starts[i]..starts[i + 1];
                (&columns[at.clone()], &values[at])
            }
            Rows::Dense(_) => (&[], &[]),
        };
        columns.iter().zip(values).map(|(&j, &v)| (j as usize, v))
    }
}

/// The matrix's non-zero entries as compressed rows, when at most half of its entries
/// are.
fn compressed(x: &Matrix) -> Option<Rows<'static>> {
    let nonzero = x.data.iter().filter(|v| **v != 0.0).count();
    if nonzero * 2 > x.data.len() || x.cols > u32::MAX as usize {
        return None;
    }
    let mut starts = Vec::with_capacity(x.rows + 1);
    let mut columns = Vec::with_capacity(nonzero);
    let mut values = Vec::with_capacity(nonzero);
    starts.push(0);
    for i in 0..x.rows {
        for (j, &v) in x.row(i).iter().enumerate() {
            if v != 0.0 {
                columns.push(j as u32);
                values.push(v);
            }
        }
        starts.push(columns.len());
    }
    Some(Rows::Sparse {
        cols: x.cols,
        starts,
        columns,
        values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_rows_give_the_dense_products() {
        let x = Matrix {
            rows: 3,
            cols: 4,
            data: vec![
                0.0, 1.0, 0.0, 0.0, //
                2.5, 0.0, 0.0, 1.0, //
                0.0, 0.0, 0.0, 0.0,
            ],
        };
        let sparse = Rows::of(&x);
        assert!(matches!(sparse, Rows::Sparse { .. }));
        let dense = Rows::dense(&x);
        let w = [0.5, -2.0, 3.0, 4.0];
        for i in 0..3 {
            assert_eq!(sparse.dot(i, &w), dense.dot(i, &w));
            let (mut a, mut b) = (vec![1.0; 4], vec![1.0; 4]);
            sparse.add_to(i, 0.5, &mut a);
            dense.add_to(i, 0.5, &mut b);
            assert_eq!(a, b);
        }
        let full = Matrix {
            rows: 1,
            cols: 2,
            data: vec![1.0, 2.0],
        };
        assert!(matches!(Rows::of(&full), Rows::Dense(_)));
    }
}
