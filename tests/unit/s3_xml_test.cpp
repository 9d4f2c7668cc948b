// The S3 XML documents: ListObjectsV2 pages (encoding-type=url), error documents, multipart
// bodies, percent decoding and ISO-8601 times.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.hpp"
#include "store/s3_xml.hpp"

namespace sluice::store::s3xml {
namespace {

using namespace std::string_literals;

// A page as AWS returns it for list-type=2&encoding-type=url&delimiter=/&prefix=data/&max-keys=5.
const char* kPage = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>example-bucket</Name>
  <Prefix>data%2F</Prefix>
  <KeyCount>5</KeyCount>
  <MaxKeys>5</MaxKeys>
  <Delimiter>%2F</Delimiter>
  <EncodingType>url</EncodingType>
  <IsTruncated>true</IsTruncated>
  <ContinuationToken>1w41l63U0xa8q7smH50vCxyTQqdxo69O3EmK28Bi5PcROI4wI/EyIJg==</ContinuationToken>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <Contents>
    <Key>data/hello%20world.txt</Key>
    <LastModified>2023-01-02T03:04:05.678Z</LastModified>
    <ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag>
    <ChecksumAlgorithm>CRC32</ChecksumAlgorithm>
    <Size>0</Size>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <Contents>
    <Key>data/a%2Bb+c.bin</Key>
    <LastModified>2000-02-29T23:59:59.000Z</LastModified>
    <ETag>"9b2cf535f27731c974343645a3985328-3"</ETag>
    <Size>16777216</Size>
    <Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>me</DisplayName></Owner>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <Contents>
    <Key>data/caf%C3%A9/%E6%97%A5%E6%9C%AC.txt</Key>
    <LastModified>2038-01-19T03:14:08Z</LastModified>
    <ETag>&quot;0cc175b9c0f1b6a831c399e269772661&quot;</ETag>
    <Size>18446744073709551615</Size>
    <StorageClass>GLACIER</StorageClass>
  </Contents>
  <CommonPrefixes><Prefix>data/sub%20dir%2F</Prefix></CommonPrefixes>
  <CommonPrefixes><Prefix>data/%C3%A9/</Prefix></CommonPrefixes>
</ListBucketResult>)";

Error refusal(std::string_view body, bool url_encoded = true) {
  try {
    parse_list_v2(body, url_encoded);
    ADD_FAILURE() << "parsed without error: " << body;
  } catch (const Error& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "non-Error thrown: " << e.what();
  }
  return Error(ErrorKind::kInvalidInput, "<nothing thrown>");
}

std::string page_with(const std::string& inner) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult>" + inner + "</ListBucketResult>";
}

// ---- ListObjectsV2 --------------------------------------------------------------------------------

TEST(S3XmlList, RealPageDecoded) {
  ListPage p = parse_list_v2(kPage, true);
  ASSERT_EQ(p.objects.size(), 3u);
  EXPECT_EQ(p.objects[0].key, "data/hello world.txt");
  EXPECT_EQ(p.objects[0].size, 0u);
  EXPECT_EQ(p.objects[0].etag, "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(p.objects[0].mtime_epoch_ns, 1672628645LL * 1'000'000'000 + 678'000'000);

  EXPECT_EQ(p.objects[1].key, "data/a+b c.bin");  // %2B is '+', '+' is ' '
  EXPECT_EQ(p.objects[1].size, 16777216u);
  EXPECT_EQ(p.objects[1].etag, "9b2cf535f27731c974343645a3985328-3");
  EXPECT_EQ(p.objects[1].mtime_epoch_ns, 951868799LL * 1'000'000'000);

  EXPECT_EQ(p.objects[2].key, "data/caf\xC3\xA9/\xE6\x97\xA5\xE6\x9C\xAC.txt");
  EXPECT_EQ(p.objects[2].size, 18446744073709551615ULL);
  EXPECT_EQ(p.objects[2].mtime_epoch_ns, 2147483648LL * 1'000'000'000);  // past 2038

  ASSERT_EQ(p.common_prefixes.size(), 2u);
  EXPECT_EQ(p.common_prefixes[0], "data/sub dir/");
  EXPECT_EQ(p.common_prefixes[1], "data/\xC3\xA9/");
  // The token is opaque: neither decoded nor altered.
  EXPECT_EQ(p.next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}

TEST(S3XmlList, NotUrlEncodedKeysKeptVerbatim) {
  auto p = parse_list_v2(page_with("<IsTruncated>false</IsTruncated>"
                                   "<Contents><Key>a%20b+c &amp; d&lt;e&gt;</Key><Size>1</Size></Contents>"
                                   "<CommonPrefixes><Prefix>p%2F+</Prefix></CommonPrefixes>"),
                         false);
  ASSERT_EQ(p.objects.size(), 1u);
  EXPECT_EQ(p.objects[0].key, "a%20b+c & d<e>");
  ASSERT_EQ(p.common_prefixes.size(), 1u);
  EXPECT_EQ(p.common_prefixes[0], "p%2F+");
}

TEST(S3XmlList, XmlEscapesAndPercentTogether) {
  auto p = parse_list_v2(page_with("<Contents><Key>%26amp%3B/a&amp;b%25</Key><Size>2</Size></Contents>"), true);
  ASSERT_EQ(p.objects.size(), 1u);
  EXPECT_EQ(p.objects[0].key, "&amp;/a&b%");  // XML first, then percent: each exactly once
}

TEST(S3XmlList, LastPageHasNoToken) {
  auto p = parse_list_v2(page_with("<IsTruncated>false</IsTruncated><NextContinuationToken>ignored</NextContinuationToken>"
                                   "<Contents><Key>k</Key><Size>5</Size></Contents>"),
                         true);
  EXPECT_EQ(p.objects.size(), 1u);
  EXPECT_TRUE(p.next_continuation_token.empty());
  auto q = parse_list_v2(page_with("<Contents><Key>k</Key><Size>5</Size></Contents>"), true);  // no IsTruncated
  EXPECT_TRUE(q.next_continuation_token.empty());
}

TEST(S3XmlList, EmptyListing) {
  auto p = parse_list_v2(R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>nothing%2F</Prefix>
<KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated></ListBucketResult>)",
                         true);
  EXPECT_TRUE(p.objects.empty());
  EXPECT_TRUE(p.common_prefixes.empty());
  EXPECT_TRUE(p.next_continuation_token.empty());
}

TEST(S3XmlList, MissingLastModifiedAndEtagTolerated) {
  auto p = parse_list_v2(page_with("<Contents><Key>k</Key><Size>7</Size></Contents>"), true);
  ASSERT_EQ(p.objects.size(), 1u);
  EXPECT_EQ(p.objects[0].etag, "");
  EXPECT_EQ(p.objects[0].mtime_epoch_ns, 0);
}

TEST(S3XmlList, MalformedXmlNamesTheProblem) {
  for (std::string body : {"<ListBucketResult><Contents><Key>a</Key>"s, "not xml at all <"s,
                           "<ListBucketResult><Contents></ListBucketResult>"s}) {
    SCOPED_TRACE(body);
    Error e = refusal(body);
    EXPECT_EQ(e.kind(), ErrorKind::kInternal);
    EXPECT_NE(e.message().find("malformed"), std::string::npos) << e.what();
    EXPECT_NE(e.message().find("ListObjectsV2"), std::string::npos) << e.what();
    EXPECT_FALSE(e.cause().empty()) << "no description of what is wrong";
    EXPECT_NE(e.cause().find("at byte"), std::string::npos) << e.cause();
  }
}

// A body with far more elements than a page of 1000 keys has is refused before it is parsed
// (parsing costs some 70 bytes per element); a full page of 1000 keys is well under the limit.
TEST(S3XmlList, TooManyElementsRefusedBeforeParsing) {
  std::string deep = "<ListBucketResult>";
  for (int i = 0; i < 300'000; ++i) deep += "<a>";
  Error e = refusal(deep);
  EXPECT_EQ(e.kind(), ErrorKind::kInternal);
  EXPECT_NE(e.message().find("malformed"), std::string::npos) << e.what();
  EXPECT_NE(e.cause().find("300001 XML tags"), std::string::npos) << e.cause();
  std::string page = "<ListBucketResult>";
  for (int i = 0; i < 1000; ++i) {
    page += "<Contents><Key>k" + std::to_string(i) + "</Key><LastModified>2024-01-02T03:04:05.000Z</LastModified>"
            "<ETag>&quot;x&quot;</ETag><Size>1</Size><StorageClass>STANDARD</StorageClass><Owner><ID>o</ID>"
            "<DisplayName>o</DisplayName></Owner><Type>Normal</Type></Contents>";
  }
  page += "<IsTruncated>false</IsTruncated></ListBucketResult>";
  EXPECT_EQ(parse_list_v2(page, false).objects.size(), 1000u);
}

TEST(S3XmlList, EmptyBodyRefused) {
  Error e = refusal("");
  EXPECT_EQ(e.kind(), ErrorKind::kInternal);
  EXPECT_NE(e.message().find("malformed"), std::string::npos) << e.what();
}

TEST(S3XmlList, WrongRootRefused) {
  Error e = refusal("<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>no</Message></Error>");
  EXPECT_EQ(e.kind(), ErrorKind::kInternal);
  EXPECT_NE(e.cause().find("<ListBucketResult>"), std::string::npos) << e.what();
  Error v1 = refusal("<ListAllMyBucketsResult/>");
  EXPECT_NE(v1.cause().find("<ListBucketResult>"), std::string::npos) << v1.what();
}

TEST(S3XmlList, TruncatedWithoutTokenRefused) {
  Error e = refusal(page_with("<IsTruncated>true</IsTruncated><Contents><Key>k</Key><Size>1</Size></Contents>"));
  EXPECT_EQ(e.kind(), ErrorKind::kInternal);
  EXPECT_NE(e.cause().find("NextContinuationToken"), std::string::npos) << e.what();
  Error empty = refusal(page_with("<IsTruncated>true</IsTruncated><NextContinuationToken></NextContinuationToken>"));
  EXPECT_NE(empty.cause().find("NextContinuationToken"), std::string::npos) << empty.what();
}

TEST(S3XmlList, BadSizeRefused) {
  for (std::string size : {"12a"s, "-1"s, ""s, " 12"s, "1.5"s, "0x10"s, "18446744073709551616"s, "abc"s}) {
    SCOPED_TRACE("Size '" + size + "'");
    Error e = refusal(page_with("<Contents><Key>k</Key><Size>" + size + "</Size></Contents>"));
    EXPECT_EQ(e.kind(), ErrorKind::kInternal);
    EXPECT_NE(e.cause().find("Size"), std::string::npos) << e.what();
    EXPECT_NE(e.cause().find("'" + size + "'"), std::string::npos) << e.what();
  }
  Error missing = refusal(page_with("<Contents><Key>k</Key></Contents>"));
  EXPECT_NE(missing.cause().find("Size"), std::string::npos) << missing.what();
}

TEST(S3XmlList, ContentsWithoutKeyRefused) {
  Error e = refusal(page_with("<Contents><Size>1</Size></Contents>"));
  EXPECT_EQ(e.kind(), ErrorKind::kInternal);
  EXPECT_NE(e.cause().find("<Key>"), std::string::npos) << e.what();
}

TEST(S3XmlList, ManyKeysInOrder) {
  std::string inner = "<IsTruncated>true</IsTruncated><NextContinuationToken>t</NextContinuationToken>";
  for (int i = 0; i < 1000; ++i) {
    inner += "<Contents><Key>k%2F" + std::to_string(i) + "</Key><Size>" + std::to_string(i) + "</Size></Contents>";
  }
  auto p = parse_list_v2(page_with(inner), true);
  ASSERT_EQ(p.objects.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(p.objects[i].key, "k/" + std::to_string(i));
    EXPECT_EQ(p.objects[i].size, static_cast<uint64_t>(i));
  }
  EXPECT_EQ(p.next_continuation_token, "t");
}

// ---- percent_decode --------------------------------------------------------------------------------

TEST(S3XmlPercentDecode, Basics) {
  EXPECT_EQ(percent_decode(""), "");
  EXPECT_EQ(percent_decode("plain/key.txt"), "plain/key.txt");
  EXPECT_EQ(percent_decode("a%20b"), "a b");
  EXPECT_EQ(percent_decode("a+b"), "a b");
  EXPECT_EQ(percent_decode("a%2Bb"), "a+b");
  EXPECT_EQ(percent_decode("a%2bb"), "a+b");  // lower-case hex
  EXPECT_EQ(percent_decode("%2F"), "/");
  EXPECT_EQ(percent_decode("%25"), "%");
  EXPECT_EQ(percent_decode("%2520"), "%20");  // decoded once only
  EXPECT_EQ(percent_decode("caf%C3%A9"), "caf\xC3\xA9");
  EXPECT_EQ(percent_decode("%F0%9F%98%80"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(percent_decode("%41%42%43"), "ABC");
  EXPECT_EQ(percent_decode("%00"), "\0"s);
  EXPECT_EQ(percent_decode("%FF"), "\xFF");
}

TEST(S3XmlPercentDecode, MalformedEscapesKeptLiterally) {
  EXPECT_EQ(percent_decode("100%"), "100%");
  EXPECT_EQ(percent_decode("%"), "%");
  EXPECT_EQ(percent_decode("%4"), "%4");
  EXPECT_EQ(percent_decode("a%4"), "a%4");
  EXPECT_EQ(percent_decode("%zz"), "%zz");
  EXPECT_EQ(percent_decode("%4g"), "%4g");
  EXPECT_EQ(percent_decode("%%41"), "%A");
  EXPECT_EQ(percent_decode("%41"), "A");  // an escape that ends the string
  EXPECT_EQ(percent_decode("x%41"), "xA");
}

// ---- error documents -----------------------------------------------------------------------------

TEST(S3XmlError, ParsesCodeAndMessage) {
  auto e = parse_error(R"(<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a/b</Key>
<RequestId>4442587FB7D0A2F9</RequestId><HostId>abc=</HostId></Error>)");
  EXPECT_EQ(e.code, "NoSuchKey");
  EXPECT_EQ(e.message, "The specified key does not exist.");
  auto s = parse_error("<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>");
  EXPECT_EQ(s.code, "SlowDown");
  auto m = parse_error("<Error><Code>InternalError</Code></Error>");
  EXPECT_EQ(m.code, "InternalError");
  EXPECT_EQ(m.message, "");
}

TEST(S3XmlError, NonErrorBodiesGiveEmptyFields) {
  for (std::string body : {""s, "not xml"s, "<html><body>502 Bad Gateway</body></html>"s, "<Error><Code>Trunc"s,
                           "<CompleteMultipartUploadResult><ETag>x</ETag></CompleteMultipartUploadResult>"s}) {
    SCOPED_TRACE(body);
    auto e = parse_error(body);
    EXPECT_EQ(e.code, "");
    EXPECT_EQ(e.message, "");
  }
}

// ---- multipart ----------------------------------------------------------------------------------

TEST(S3XmlMultipart, UploadId) {
  EXPECT_EQ(parse_upload_id(R"(<?xml version="1.0" encoding="UTF-8"?>
<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>example-bucket</Bucket><Key>example-object</Key>
  <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
</InitiateMultipartUploadResult>)"),
            "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA");
  EXPECT_EQ(parse_upload_id("<InitiateMultipartUploadResult><UploadId>2~a&amp;b</UploadId></InitiateMultipartUploadResult>"),
            "2~a&b");
}

TEST(S3XmlMultipart, UploadIdMissingOrMalformedRefused) {
  for (std::string body : {"<InitiateMultipartUploadResult><Bucket>b</Bucket></InitiateMultipartUploadResult>"s,
                           "<InitiateMultipartUploadResult><UploadId></UploadId></InitiateMultipartUploadResult>"s,
                           "<Error><Code>AccessDenied</Code></Error>"s, "<InitiateMultipartUploadResult><UploadId>x"s, ""s}) {
    SCOPED_TRACE(body);
    try {
      parse_upload_id(body);
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInternal);
      EXPECT_NE(e.message().find("CreateMultipartUpload"), std::string::npos) << e.what();
    }
  }
}

TEST(S3XmlMultipart, CompleteBody) {
  EXPECT_EQ(complete_multipart_body({"aaa", "bbb"}),
            "<CompleteMultipartUpload>"
            "<Part><PartNumber>1</PartNumber><ETag>\"aaa\"</ETag></Part>"
            "<Part><PartNumber>2</PartNumber><ETag>\"bbb\"</ETag></Part>"
            "</CompleteMultipartUpload>");
  EXPECT_EQ(complete_multipart_body({}), "<CompleteMultipartUpload></CompleteMultipartUpload>");
  std::vector<std::string> many;
  for (int i = 0; i < 10000; ++i) many.push_back("e" + std::to_string(i));
  std::string body = complete_multipart_body(many);
  EXPECT_NE(body.find("<Part><PartNumber>10000</PartNumber><ETag>\"e9999\"</ETag></Part></CompleteMultipartUpload>"),
            std::string::npos);
}

// ---- ETags and times -------------------------------------------------------------------------------

TEST(S3XmlEtag, StripQuotes) {
  EXPECT_EQ(strip_quotes("\"abc\""), "abc");
  EXPECT_EQ(strip_quotes("abc"), "abc");
  EXPECT_EQ(strip_quotes("&quot;abc&quot;"), "abc");
  EXPECT_EQ(strip_quotes("\"abc-12\""), "abc-12");
  EXPECT_EQ(strip_quotes("\"\""), "");
  EXPECT_EQ(strip_quotes("\""), "\"");
  EXPECT_EQ(strip_quotes(""), "");
  EXPECT_EQ(strip_quotes("W/\"weak\""), "W/\"weak\"");
}

TEST(S3XmlTime, OutOfRangeDatesAreUnparsable) {  // found by the s3_list_xml fuzz target (UBSan)
  EXPECT_EQ(parse_iso8601_ns("9999-12-31T23:59:59Z"), 0);
  EXPECT_EQ(parse_iso8601_ns("1000-01-01T00:00:00Z"), 0);
  EXPECT_GT(parse_iso8601_ns("2262-01-01T00:00:00Z"), 0);
}

TEST(S3XmlTime, Iso8601) {
  EXPECT_EQ(parse_iso8601_ns("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_iso8601_ns("1970-01-01T00:00:01Z"), 1'000'000'000);
  EXPECT_EQ(parse_iso8601_ns("2023-01-02T03:04:05Z"), 1672628645LL * 1'000'000'000);
  EXPECT_EQ(parse_iso8601_ns("2023-01-02T03:04:05.000Z"), 1672628645LL * 1'000'000'000);
  EXPECT_EQ(parse_iso8601_ns("2023-01-02T03:04:05.678Z"), 1672628645LL * 1'000'000'000 + 678'000'000);
  EXPECT_EQ(parse_iso8601_ns("2023-01-02T03:04:05.5Z"), 1672628645LL * 1'000'000'000 + 500'000'000);
  EXPECT_EQ(parse_iso8601_ns("2023-01-02T03:04:05.123456789Z"), 1672628645LL * 1'000'000'000 + 123'456'789);
  EXPECT_EQ(parse_iso8601_ns("2023-01-02T03:04:05.1234567891Z"), 1672628645LL * 1'000'000'000 + 123'456'789);
  EXPECT_EQ(parse_iso8601_ns("2000-02-29T23:59:59Z"), 951868799LL * 1'000'000'000);  // leap day
  EXPECT_EQ(parse_iso8601_ns("2038-01-19T03:14:08Z"), 2147483648LL * 1'000'000'000);
}

TEST(S3XmlTime, UnparsableIsZero) {
  EXPECT_EQ(parse_iso8601_ns(""), 0);
  EXPECT_EQ(parse_iso8601_ns("yesterday"), 0);
  EXPECT_EQ(parse_iso8601_ns("2023-01-02"), 0);
  EXPECT_EQ(parse_iso8601_ns("Mon, 02 Jan 2023 03:04:05 GMT"), 0);
}

}  // namespace
}  // namespace sluice::store::s3xml
