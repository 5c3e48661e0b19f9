# Reference numbers for mstoutcomes/trial/blinding_index.py: Bang's blinding index per arm,
# written from Bang, Ni & Davis (2004) in plain R (the CRAN package BI is not in Debian).
# Run: Rscript bang_bi.R > bang_bi.out
# Each table is 3 x 2: rows are the guesses (arm 1, arm 2, don't know), columns the true arms.
bang <- function(x, conf.level = 0.95) {
  z <- qnorm(1 - (1 - conf.level) / 2)
  for (j in 1:2) {
    n <- sum(x[, j])
    correct <- x[j, j]
    incorrect <- x[3 - j, j]
    est <- (2 * correct / (correct + incorrect) - 1) * (correct + incorrect) / n
    p1 <- correct / n
    p2 <- incorrect / n
    se <- sqrt((p1 * (1 - p1) + p2 * (1 - p2) + 2 * p1 * p2) / n)
    cat(sprintf("%s arm%d %.10f %.10f %.10f %.10f\n",
                deparse(substitute(x)), j, est, se, est - z * se, est + z * se))
  }
}
table1 <- matrix(c(82, 25, 27, 170, 11, 4), nrow = 3, byrow = TRUE)
table2 <- matrix(c(10, 9, 8, 12, 2, 1), nrow = 3, byrow = TRUE)
table3 <- matrix(c(3, 3, 3, 3, 14, 14), nrow = 3, byrow = TRUE)
table4 <- matrix(c(0, 20, 20, 0, 0, 0), nrow = 3, byrow = TRUE)
bang(table1)
bang(table2)
bang(table3)
bang(table4)
