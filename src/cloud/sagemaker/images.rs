//! Images of SageMaker's built-in algorithms by region. The registry accounts are those
//! SageMaker publishes for its XGBoost container (versions 0.90-1 and later share them).

use super::BuiltinAlgorithm;
use crate::error::{Error, Result};

const XGBOOST_REGISTRIES: &[(&str, &str)] = &[
    ("af-south-1", "510948584623"),
    ("ap-east-1", "651117190479"),
    ("ap-northeast-1", "354813040037"),
    ("ap-northeast-2", "366743142698"),
    ("ap-northeast-3", "867004704886"),
    ("ap-south-1", "720646828776"),
    ("ap-south-2", "628508329040"),
    ("ap-southeast-1", "121021644041"),
    ("ap-southeast-2", "783357654285"),
    ("ap-southeast-3", "951798379941"),
    ("ap-southeast-4", "106583098589"),
    ("ca-central-1", "341280168497"),
    ("ca-west-1", "190319476487"),
    ("eu-central-1", "492215442770"),
    ("eu-central-2", "680994064768"),
    ("eu-north-1", "662702820516"),
    ("eu-south-1", "978288397137"),
    ("eu-south-2", "104374241257"),
    ("eu-west-1", "141502667606"),
    ("eu-west-2", "764974769150"),
    ("eu-west-3", "659782779980"),
    ("il-central-1", "898809789911"),
    ("me-central-1", "272398656194"),
    ("me-south-1", "801668240914"),
    ("sa-east-1", "737474898029"),
    ("us-east-1", "683313688378"),
    ("us-east-2", "257758044811"),
    ("us-gov-east-1", "237065988967"),
    ("us-gov-west-1", "414596584902"),
    ("us-west-1", "746614075791"),
    ("us-west-2", "246618743249"),
];

/// The image URI of a built-in algorithm in `region`.
pub fn builtin_image(algorithm: BuiltinAlgorithm, version: &str, region: &str) -> Result<String> {
    match algorithm {
        BuiltinAlgorithm::Xgboost => XGBOOST_REGISTRIES
            .iter()
            .find(|(r, _)| *r == region)
            .map(|(_, account)| {
                format!("{account}.dkr.ecr.{region}.amazonaws.com/sagemaker-xgboost:{version}")
            })
            .ok_or_else(|| {
                Error::config(format!(
                    "no SageMaker XGBoost image is known for region `{region}`"
                ))
                .with_hint("set `train.sagemaker.image` to the image URI for your region")
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xgboost_image_by_region() {
        assert_eq!(
            builtin_image(BuiltinAlgorithm::Xgboost, "1.7-1", "us-east-1").unwrap(),
            "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
        );
        let err = builtin_image(BuiltinAlgorithm::Xgboost, "1.7-1", "mars-1").unwrap_err();
        assert!(err.message.contains("mars-1"), "{}", err.message);
    }
}
