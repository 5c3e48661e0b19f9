# Reference numbers for negative binomial fits on small, sparse count data (most young people
# with no offences), where statsmodels' Newton steps from its default start can fail.
# Run from this directory:   Rscript sparse_counts.R > sparse_counts.txt
# Made with R from Debian's r-base-core and r-cran-mass. sparse6.csv has no events in one arm:
# glm.nb "converges" there to a meaningless rate ratio, which is why our estimator refuses it.
suppressMessages(library(MASS))
options(digits = 15)
for (name in c("sparse1", "sparse3", "sparse7")) {
  d <- read.csv(paste0(name, ".csv"), stringsAsFactors = FALSE)
  d$arm <- factor(d$arm, levels = c("MAU", "MST"))
  nb <- glm.nb(count ~ arm + offset(log(years)), data = d,
               control = glm.control(epsilon = 1e-12, maxit = 100))
  s <- summary(nb)$coefficients
  cat(sprintf("%s.coef %.15g\n", name, s["armMST", 1]))
  cat(sprintf("%s.se %.15g\n", name, s["armMST", 2]))
  cat(sprintf("%s.theta %.15g\n", name, nb$theta))
}
