//! The rows a linear model's objective reads: the design matrix as it is, or, when most
//! of its entries are zero (one-hot levels), each row's non-zero entries only, so that a
//! gradient costs a row's non-zero entries instead of its width.

use super::matrix::Matrix;

pub enum Rows<'a> {
    Dense(&'a Matrix),
    /// Compressed rows: row `i`'s entries are `starts[i]..starts[i + 1]`.
    Sparse {
        starts: Vec<usize>,
        columns: Vec<u32>,
        values: Vec<f64>,
    },
}

impl<'a> Rows<'a> {
    /// Sparse when at most half of the entries are non-zero.
    pub fn of(x: &'a Matrix) -> Rows<'a> {
        let nonzero = x.data.iter().filter(|v| **v != 0.0).count();
        if nonzero * 2 > x.data.len() || x.cols > u32::MAX as usize {
            return Rows::Dense(x);
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
        Rows::Sparse {
            starts,
            columns,
            values,
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
            } => {
                let at = starts[i]..starts[i + 1];
                (&columns[at.clone()], &values[at])
            }
            Rows::Dense(_) => (&[], &[]),
        };
        columns.iter().zip(values).map(|(&j, &v)| (j as usize, v))
    }
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
        let dense = Rows::Dense(&x);
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
