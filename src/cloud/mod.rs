//! Cloud services behind mlgate's engines: AWS (the S3 store, SageMaker training, batch
//! transform and Model Registry).

pub mod aws;
pub mod sagemaker;
